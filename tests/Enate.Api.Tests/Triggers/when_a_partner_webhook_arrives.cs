extern alias workers;
using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;

namespace Enate.Api.Tests.Triggers;

public sealed class when_a_partner_webhook_arrives(AppFixture app) : AppTest(app)
{
    private string _path = "";
    private string _secret = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Api.PutRecipe("employee-onboarded", new
        {
            name = "Employee onboarded",
            trigger = new { type = "webhook" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input.data" } },
        });
        (_path, _secret) = await Hook();
    }

    [Fact]
    public async Task a_signed_webhook_starts_one_run_and_its_repeat_starts_nothing()
    {
        var body = """{"type":"employee.onboarded","data":{"email":"ada@example.com"}}""";
        var first = await Send(body, "msg_1", Now(), _secret, HttpStatusCode.Accepted);
        var again = await Send(body, "msg_1", Now(), _secret, HttpStatusCode.OK);
        Assert.Equal(first, again);

        var run = await Api.WaitForRun(first, RunStatus.Succeeded);
        Assert.Equal("ada@example.com", run.Output!.Value.GetProperty("email").GetString());
        Assert.NotNull(run.InboundId);

        var inbound = await Api.GetAsJson<JsonElement>($"/api/v1/inbound/{run.InboundId}");
        Assert.Equal("accepted", inbound.GetProperty("verdict").GetString());
        Assert.Equal(first, inbound.GetProperty("runIds")[0].GetGuid());
        Assert.Equal(Enate.Api.Runs.RunStarter.Sha256(body), inbound.GetProperty("body").GetProperty("sha256").GetString());
        Assert.Equal("***", inbound.GetProperty("headers").GetProperty("webhook-signature").GetString());
        Assert.Equal(body, inbound.GetProperty("body").GetProperty("text").GetString());
        var duplicates = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=duplicate");
        Assert.Single(duplicates.GetProperty("items").EnumerateArray());

        // The list shows the record with its headers and body as well...
        var accepted = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=accepted");
        var listed = accepted.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetGuid() == run.InboundId);
        Assert.Equal(body, listed.GetProperty("body").GetProperty("text").GetString());
        Assert.Equal("msg_1", listed.GetProperty("headers").GetProperty("webhook-id").GetString());
        // ...which are written once, in the event: the read model's document keeps neither.
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var stored = new Npgsql.NpgsqlCommand(
            $"select data -> 'headers', data -> 'body' ->> 'text' from {Enate.Domain.EnateStore.Schema}.mt_doc_inboundrequest where id = @id", connection);
        stored.Parameters.AddWithValue("id", run.InboundId!.Value);
        await using var row = await stored.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("{}", row.GetString(0));
        Assert.True(row.IsDBNull(1));
    }

    /// The body is the run's input: it is stored once, in the inbound record, and the run reads it from there.
    [Fact]
    public async Task the_body_is_stored_once_and_the_run_its_detail_its_events_and_a_re_run_read_it_from_the_record()
    {
        var body = """{"type":"employee.onboarded","data":{"name":"Grace","email":"grace@example.com"}}""";
        var runId = await Send(body, "msg_once", Now(), _secret, HttpStatusCode.Accepted);
        var run = await Api.WaitForRun(runId, RunStatus.Succeeded);
        Assert.Equal("grace@example.com", run.Output!.Value.GetProperty("email").GetString());

        var (stored, ownInput) = await RequestedAsync(runId);
        Assert.Null(ownInput);
        Assert.True(stored.GetProperty("inputInInbound").GetBoolean());
        Assert.Equal(run.InboundId, stored.GetProperty("inboundId").GetGuid());

        var detail = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal("Grace", detail.GetProperty("input").GetProperty("data").GetProperty("name").GetString());
        var events = await Api.GetAsJson<JsonElement>($"/api/v1/runs/{runId}/events");
        Assert.Equal("grace@example.com",
            events.GetProperty("items")[0].GetProperty("data").GetProperty("input").GetProperty("data").GetProperty("email").GetString());

        // What-if re-executes the recipe over the recorded input: the same output, nothing changed.
        var (status, whatIf, _) = await Enate.Api.Tests.Replay.ReplayCalls.Post(Api, "/api/v1/recipes/employee-onboarded/versions/1/what-if", new { filter = new { } });
        Assert.Equal(200, status);
        var tried = whatIf.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("runId").GetGuid() == runId);
        Assert.Equal("succeeded", tried.GetProperty("outcome").GetString());
        Assert.False(tried.GetProperty("changed").GetBoolean());

        // A replay has no inbound request of its own: it keeps the input in its own first event.
        var rerunId = await Enate.Api.Tests.Replay.ReplayCalls.ReplayRun(Api, runId, 1);
        var rerun = await Api.WaitForRun(rerunId, RunStatus.Succeeded);
        Assert.Equal("grace@example.com", rerun.Output!.Value.GetProperty("email").GetString());
        var (_, rerunInput) = await RequestedAsync(rerunId);
        Assert.Equal("Grace", rerunInput!.Value.GetProperty("data").GetProperty("name").GetString());
    }

    /// jsonb keeps the last of a repeated key; read from the text, the body could mean something else. Such a body is
    /// still accepted, and its run keeps the input (as jsonb stored it) in its own first event.
    [Fact]
    public async Task a_body_with_a_repeated_key_is_accepted_and_its_run_keeps_its_own_input()
    {
        var body = """{"type":"employee.onboarded","data":{"email":"first@example.com"},"data":{"email":"last@example.com"}}""";
        var runId = await Send(body, "msg_repeated_key", Now(), _secret, HttpStatusCode.Accepted);
        var run = await Api.WaitForRun(runId, RunStatus.Succeeded);

        Assert.Equal("last@example.com", run.Output!.Value.GetProperty("email").GetString());
        var (stored, ownInput) = await RequestedAsync(runId);
        Assert.False(stored.TryGetProperty("inputInInbound", out _));
        Assert.Equal("last@example.com", ownInput!.Value.GetProperty("data").GetProperty("email").GetString());
    }

    /// A run's RunRequested as stored, and the input it holds itself (null when it holds none).
    private async Task<(JsonElement Data, JsonElement? Input)> RequestedAsync(Guid runId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"select data::text from {Enate.Domain.EnateStore.Schema}.mt_events where stream_id = @id and version = 1", connection);
        command.Parameters.AddWithValue("id", runId);
        var data = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement.Clone();
        return (data, data.TryGetProperty("input", out var input) ? input : null);
    }

    /// The connections auto-prepare their statements, and after a few runs PostgreSQL may keep a generic plan for one
    /// for good. A generic plan for "stream id in this list" read the index by tenant and version only and filtered
    /// the stream ids afterwards: every first event of the tenant, on every step of every run that reads its input
    /// from its inbound record (2.3 ms a step at a few thousand runs, and growing). The read must stay on the record.
    [Fact]
    public async Task reading_a_runs_input_touches_its_own_record_however_many_the_tenant_has()
    {
        var runIds = new List<Guid>();
        for (var i = 0; i < 30; i++)
            runIds.Add(await Send("{\"type\":\"employee.onboarded\",\"data\":{\"n\":" + i + "}}", $"msg_many_{i}", Now(), _secret, HttpStatusCode.Accepted));
        var requested = new List<RunRequested>();
        await using (var query = App.Store.QuerySession("demo"))
            foreach (var id in runIds.Take(3))
                requested.Add((RunRequested)(await query.Events.FetchStreamAsync(id))[0].Data);

        await using var connection = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // The generic plan is what the auto-prepared statements get. Which index it takes depends on the table's
        // statistics, which autovacuum renews when it likes: fresh statistics first (the log holds every earlier test's
        // events, so the stream ids are many), and sequential scans off, so the rows read show the query's shape alone —
        // an index on the stream ids asked for, or one that reads the tenant's every first event.
        await using (var generic = new Npgsql.NpgsqlCommand(
                         $"analyze {Enate.Domain.EnateStore.Schema}.mt_events; set local plan_cache_mode = force_generic_plan; set local enable_seqscan = off",
                         connection, transaction))
            await generic.ExecuteNonQueryAsync();
        var options = Marten.Services.SessionOptions.ForTransaction(transaction);
        options.TenantId = "demo";
        await using var session = App.Store.QuerySession(options);

        var before = await FetchedAsync();
        var one = await RunInputs.OfAsync(session, requested[0], CancellationToken.None);
        var fetchedForOne = await FetchedAsync() - before;
        var three = await RunInputs.OfAsync(session, requested, CancellationToken.None);
        var fetchedForThree = await FetchedAsync() - before - fetchedForOne;

        Assert.Equal(0, one.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal([0, 1, 2], requested.Select(r => three[r.RunId].GetProperty("data").GetProperty("n").GetInt32()));
        // Rows of mt_events read: the records asked for, not the tenant's 60 first events (30 inbound records, 30 runs).
        Assert.InRange(fetchedForOne, 1, 2);
        Assert.InRange(fetchedForThree, 3, 6);

        async Task<long> FetchedAsync()
        {
            // Rows a sequential scan of the table read, and entries its indexes gave, in this transaction so far.
            await using var command = new Npgsql.NpgsqlCommand(
                $"select sum(pg_stat_get_xact_tuples_returned(r))::bigint from (select '{Enate.Domain.EnateStore.Schema}.mt_events'::regclass::oid as r " +
                $"union all select indexrelid from pg_index where indrelid = '{Enate.Domain.EnateStore.Schema}.mt_events'::regclass) relations",
                connection, transaction);
            return (long)(await command.ExecuteScalarAsync())!;
        }
    }

    /// A message reads, besides its run's stream, the recipe version, the input in the inbound record and the
    /// connections of the calls to come: one round trip for all three once the process has read that version. The run
    /// names its version's SHA-256, so a version saved again under the same key (after a wipe) is never served from memory.
    [Fact]
    public async Task a_runs_recipe_input_and_connections_are_read_in_one_round_trip()
    {
        await Api.PutConnection("crm", "http://127.0.0.1:9");
        await Api.PutRecipe("employee-onboarded", new
        {
            name = "Employee onboarded, big ones to the CRM",
            trigger = new { type = "webhook" },
            steps = new object[]
            {
                new { id = "big", type = "filter", condition = "input.data.n > `100`" },
                new { id = "post", type = "http", connection = "crm", method = "POST", path = "/employees", body = "{{ input.data | json }}" },
            },
        });
        var runId = await Send("{\"type\":\"employee.onboarded\",\"data\":{\"n\":7}}", "msg_reads", Now(), _secret, HttpStatusCode.Accepted);
        await Api.WaitForRun(runId, RunStatus.Skipped);

        await using var session = App.Store.QuerySession("demo");
        var requested = (RunRequested)(await session.Events.FetchStreamAsync(runId, 1))[0].Data;
        Assert.True(requested.InputInInbound);
        Assert.NotNull(requested.RecipeSha256);
        var trips = new RoundTrips();
        session.Logger = trips;

        var reads = await workers::Enate.Workers.Runs.RunReads.LoadAsync(session, Run.Create(requested), CancellationToken.None);
        var crm = await reads.ConnectionAsync("crm", CancellationToken.None);
        Assert.Equal(1, trips.Count);
        Assert.Equal(["big", "post"], reads.Recipe.Steps.Select(s => s.Id));
        Assert.Equal(7, reads.Input.GetProperty("data").GetProperty("n").GetInt32());
        Assert.Equal("http://127.0.0.1:9", crm!.BaseUrl);

        // A run recorded before runs named the SHA-256: its version is read with its input, its connection at its call.
        trips.Count = 0;
        var old = await workers::Enate.Workers.Runs.RunReads.LoadAsync(session, Run.Create(requested with { RecipeSha256 = null }), CancellationToken.None);
        Assert.NotNull(await old.ConnectionAsync("crm", CancellationToken.None));
        Assert.Equal(2, trips.Count);
        Assert.Equal(["big", "post"], old.Recipe.Steps.Select(s => s.Id));
    }

    /// Counts the statements (or batches of statements) a session sends: its round trips to PostgreSQL.
    private sealed class RoundTrips : Marten.IMartenSessionLogger
    {
        public int Count { get; set; }
        public void OnBeforeExecute(Npgsql.NpgsqlCommand command) => Count++;
        public void OnBeforeExecute(Npgsql.NpgsqlBatch batch) => Count++;
        public void LogSuccess(Npgsql.NpgsqlCommand command) { }
        public void LogFailure(Npgsql.NpgsqlCommand command, Exception ex) { }
        public void LogSuccess(Npgsql.NpgsqlBatch batch) { }
        public void LogFailure(Npgsql.NpgsqlBatch batch, Exception ex) { }
        public void LogFailure(Exception ex, string message) { }
        public void RecordSavedChanges(Marten.IDocumentSession session, Marten.Services.IChangeSet commit) { }
    }

    [Fact]
    public async Task the_same_delivery_arriving_eight_times_at_once_starts_one_run()
    {
        var body = """{"type":"employee.onboarded","data":{"email":"grace@example.com"}}""";
        var ts = Now();
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(_path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.WithRequestHeader("webhook-id", "msg_burst");
            s.WithRequestHeader("webhook-timestamp", ts.ToString());
            s.WithRequestHeader("webhook-signature", StandardWebhookSigner.Sign(_secret, "msg_burst", ts, body));
            s.IgnoreStatusCode();
        })));

        var statuses = answers.Select(a => a.Context.Response.StatusCode).Order().ToList();
        Assert.Equal([200, 200, 200, 200, 200, 200, 200, 202], statuses);
        var runIds = answers.Select(a => a.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid()).Distinct().ToList();
        var runId = Assert.Single(runIds);
        await Api.WaitForRun(runId, RunStatus.Succeeded);

        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=employee-onboarded");
        Assert.Equal(runId, Assert.Single(runs.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());
        var accepted = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=accepted");
        Assert.Single(accepted.GetProperty("items").EnumerateArray());
        var duplicates = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=duplicate");
        Assert.Equal(7, duplicates.GetProperty("items").GetArrayLength());
        Assert.All(duplicates.GetProperty("items").EnumerateArray(), d => Assert.Equal(runId, d.GetProperty("runIds")[0].GetGuid()));
    }

    [Fact]
    public async Task a_bad_or_stale_signature_is_401_recorded_and_starts_nothing()
    {
        var body = """{"type":"employee.onboarded","data":{}}""";
        await Send(body, "msg_bad", Now(), "whsec_" + Convert.ToBase64String(new byte[32]), HttpStatusCode.Unauthorized);
        await Send(body, "msg_old", Now() - 600, _secret, HttpStatusCode.Unauthorized);
        await Send(body, "msg_future", Now() + 600, _secret, HttpStatusCode.Unauthorized);

        var rejected = await Api.GetAsJson<JsonElement>("/api/v1/inbound?verdict=rejected");
        Assert.Equal(3, rejected.GetProperty("items").GetArrayLength());
        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=employee-onboarded");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task a_delivery_without_a_usable_id_is_401_even_when_signed_since_its_repeats_could_not_be_told_apart()
    {
        // The id is what absorbs a repeat: an empty one would make every later delivery without one a "repeat" of the
        // first, answered and never run.
        var body = """{"type":"employee.onboarded","data":{}}""";
        foreach (var id in new[] { "", " ", "msg\u0001x", "msg x", new string('m', 300) })
            await Send(body, id, Now(), _secret, HttpStatusCode.Unauthorized);

        var runs = await Api.GetAsJson<JsonElement>("/api/v1/runs?recipe=employee-onboarded");
        Assert.Equal(0, runs.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task after_a_rotation_both_secrets_verify_and_several_signatures_are_accepted()
    {
        var old = _secret;
        var rotated = await Api.Scenario(s => s.Post.Url("/api/v1/recipes/employee-onboarded/webhook/rotate-secret"));
        var fresh = rotated.ReadAsJson<JsonElement>().GetProperty("secret").GetString()!;
        Assert.NotEqual(old, fresh);

        await Send("{}", "msg_old_secret", Now(), old, HttpStatusCode.Accepted);
        await Send("{}", "msg_new_secret", Now(), fresh, HttpStatusCode.Accepted);

        var ts = Now();
        var both = $"{StandardWebhookSigner.Sign("whsec_" + Convert.ToBase64String(new byte[32]), "msg_both", ts, "{}")} " +
                   StandardWebhookSigner.Sign(fresh, "msg_both", ts, "{}");
        await Api.Scenario(s =>
        {
            s.Post.Text("{}").ToUrl(_path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("webhook-id", "msg_both");
            s.WithRequestHeader("webhook-timestamp", ts.ToString());
            s.WithRequestHeader("webhook-signature", both);
            s.StatusCodeShouldBe(HttpStatusCode.Accepted);
        });
    }

    [Fact]
    public async Task an_unknown_hook_is_404_and_needs_no_key()
    {
        await Api.Scenario(s =>
        {
            s.Post.Text("{}").ToUrl($"/api/v1/hooks/{Guid.NewGuid()}");
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    private async Task<(string Path, string Secret)> Hook()
    {
        var hook = await Api.GetAsJson<JsonElement>("/api/v1/recipes/employee-onboarded/webhook");
        var url = new Uri(hook!.GetProperty("url").GetString()!);
        return (url.AbsolutePath, hook.GetProperty("secret").GetString()!);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private async Task<Guid> Send(string body, string id, long timestamp, string secret, HttpStatusCode expected)
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Text(body).ToUrl(_path);
            s.WithRequestHeader("Content-Type", "application/json");
            s.WithRequestHeader("Authorization", "");
            s.WithRequestHeader("webhook-id", id);
            s.WithRequestHeader("webhook-timestamp", timestamp.ToString());
            s.WithRequestHeader("webhook-signature", StandardWebhookSigner.Sign(secret, id, timestamp, body));
            s.StatusCodeShouldBe(expected);
        });
        return (int)expected < 300 ? result.ReadAsJson<JsonElement>().GetProperty("runId").GetGuid() : Guid.Empty;
    }
}
