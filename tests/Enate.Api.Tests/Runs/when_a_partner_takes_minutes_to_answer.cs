namespace Enate.Api.Tests.Runs;

/// A connection may wait up to 300 s for its partner. A message's handling must be allowed at least that long, or the
/// Workers would give up on the call before the connection does (Wolverine cancels a handler after 60 s by default).
public sealed class when_a_partner_takes_minutes_to_answer
{
    [Fact]
    public async Task a_call_within_the_connections_timeout_is_waited_for()
    {
        await using var platform = await OwnPlatform.StartAsync();
        await platform.Api.PutConnection("erp", platform.Partner.BaseUrl, timeoutSeconds: 120);
        var runId = await platform.RunHeldAtThePartnerAsync(5);

        // Past Wolverine's default of 60 s, well within the connection's 120 s.
        await Task.Delay(TimeSpan.FromSeconds(65));
        platform.ReleasePartner();

        await platform.AssertSucceededUnderOneKeyAsync(runId);
        Assert.Single(platform.Partner.Requests);
    }
}
