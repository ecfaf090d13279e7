using Enate.Testing;

namespace Enate.Api.Tests;

/// A test with a partner on this machine behind the connection `crm` (no credentials): what it received is in
/// `Partner.Requests`.
public abstract class PartnerTest(AppFixture app) : AppTest(app)
{
    protected TestPartner Partner { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Partner = await TestPartner.StartAsync();
        await Api.PutConnection("crm", Partner.BaseUrl);
    }

    public override async Task DisposeAsync() => await Partner.DisposeAsync();
}
