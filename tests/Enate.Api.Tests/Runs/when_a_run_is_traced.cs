using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Alba;
using Enate.Domain;
using Enate.Domain.Runs;
using Npgsql;

namespace Enate.Api.Tests.Runs;

public sealed class when_a_run_is_traced(AppFixture app) : AppTest(app)
{
    [Fact]
    public async Task the_workers_handling_joins_the_trace_of_the_api_request()
    {
        var seen = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Wolverine" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = seen.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var trace = ActivityTraceId.CreateRandom();
        await RunTracedAsync("traced", trace);
        await Task.Delay(200);

        // The API request and the handler that ran the step in the Workers both belong to the caller's trace.
        var inTrace = seen.Where(a => a.TraceId == trace).ToList();
        Assert.Contains(inTrace, a => a.Source.Name == "Microsoft.AspNetCore");
        Assert.Contains(nameof(ExecuteRun), string.Join(",", inTrace.Select(a => a.DisplayName)));
    }

    /// The API writes the Workers' message itself (group commit), with the headers the Workers read and no others:
    /// the envelope is stored twice per run, and Wolverine's full header set was six times the message.
    [Fact]
    public async Task the_message_to_the_workers_carries_its_trace_and_tenant_and_nothing_they_do_not_read()
    {
        var trace = ActivityTraceId.CreateRandom();
        var runId = await RunTracedAsync("slim", trace);

        // The Workers' inbox keeps a handled message's envelope for a while, as the queue table handed it over (their
        // own later messages about the run come through other listeners).
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"select body from {EnateStore.WolverineSchema}.wolverine_incoming_envelopes " +
            $"where received_at like 'postgresql://{EnateStore.RunQueue}%' and position(@run in body) > 0", connection);
        command.Parameters.AddWithValue("run", Encoding.UTF8.GetBytes(runId.ToString()));
        var body = Encoding.Latin1.GetString((byte[])(await command.ExecuteScalarAsync())!);

        Assert.Contains("message-type", body);
        Assert.Contains("tenant-id", body);
        Assert.Contains(trace.ToString(), body);
        Assert.DoesNotContain("destination", body);
        Assert.DoesNotContain("accepted-content-types", body);
        Assert.DoesNotContain("conversation-id", body);
        Assert.DoesNotContain("source", body);
        // Wolverine's full header set made it ~460 bytes for this message.
        Assert.True(body.Length < 400, $"The envelope is {body.Length} bytes: {new string(body.Select(c => c is >= (char)32 and < (char)127 ? c : (char)46).ToArray())}");
    }

    /// Requests a run of an echo recipe within the caller's own trace (W3C traceparent), as a client with tracing of
    /// its own would, and waits for it to succeed.
    private async Task<Guid> RunTracedAsync(string recipe, ActivityTraceId trace)
    {
        await Api.PutEchoRecipe(recipe);
        var result = await Api.Scenario(s =>
        {
            s.Post.Json(new { x = 1 }).ToUrl($"/api/v1/recipes/{recipe}/runs");
            s.WithRequestHeader("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            s.StatusCodeShouldBe(202);
        });
        var runId = result.ReadAsJson<System.Text.Json.JsonElement>().GetProperty("runId").GetGuid();
        await Api.WaitForRun(runId, RunStatus.Succeeded);
        return runId;
    }
}
