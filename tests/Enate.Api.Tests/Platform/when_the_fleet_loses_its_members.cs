using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Enate.Api.Tests.Triggers;
using Enate.Domain;
using Enate.Domain.Notifications;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Platform;

/// Chaos, with real processes: two APIs and two Workers on one PostgreSQL of the test's own, signed webhooks sent
/// to both APIs as a load balancer would (a sender whose API is gone tries the other, under the same webhook-id),
/// a schedule every two seconds and a notification endpoint. Meanwhile each API and each Workers process is killed
/// with SIGKILL (and started again) and PostgreSQL is stopped as by a crash and started on the same data. Afterwards
/// every acknowledged webhook has exactly one run, which ended; the partner saw each run's effect under one key;
/// each schedule occurrence has one run; each failed run one notification, delivered.
public sealed class when_the_fleet_loses_its_members(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private int _retries;

    private const int Orders = 240;
    private const int Refusals = 24;

    private TestDatabase _database = null!;
    private TestPartner _partner = null!;
    private TestPartner _refuser = null!;
    private TestPartner _receiver = null!;
    private readonly WorkerProcess?[] _apis = new WorkerProcess?[2];
    private readonly WorkerProcess?[] _workers = new WorkerProcess?[2];
    private readonly int[] _apiPorts = [FreePorts.Next(), FreePorts.Next()];
    private readonly HttpClient[] _clients = new HttpClient[2];
    private string _witness = "";

    private Dictionary<string, string> ApiSettings => new()
    {
        ["Enate__Bootstrap__ApiKey"] = AppFixture.AdminKey,
        ["Enate__Audit__SigningKey"] = AppFixture.AuditSigningKey,
        ["Enate__Audit__Witness__Folder"] = _witness,
        ["Enate__RateLimits__PerKeyPerSecond"] = "1000000",
        ["Enate__RateLimits__PerWebhookPerSecond"] = "1000000",
        ["Enate__RateLimits__PerTenantPerSecond"] = "1000000",
        ["Enate__RateLimits__AnonymousPerAddressPerSecond"] = "1000000",
    };

    private Dictionary<string, string> WorkersSettings => new()
    {
        ["Enate__Audit__SigningKey"] = AppFixture.AuditSigningKey,
        ["Enate__Audit__Witness__Folder"] = _witness,
    };

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync("chaos");
        _witness = AppFixture.WitnessFolderFor(_database.ConnectionString);
        _partner = await TestPartner.StartAsync();
        _refuser = await TestPartner.StartAsync();
        for (var i = 0; i < Refusals * 4; i++) _refuser.Then(400, """{"error":"refused"}""");
        _receiver = await TestPartner.StartAsync();
        for (var i = 0; i < 2; i++)
        {
            // A cold API's first calls compile their endpoints while two Workers processes start beside it on 2 shared cores:
            // 20 s was seen to run out on the very first call in CI.
            _clients[i] = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_apiPorts[i]}"), Timeout = TimeSpan.FromSeconds(60) };
            _clients[i].DefaultRequestHeaders.Authorization = new("Bearer", AppFixture.AdminKey);
        }
        // The first API makes the schema before anything else starts.
        await StartApiAsync(0);
        await Task.WhenAll(StartApiAsync(1), Task.Run(async () => _workers[0] = await StartWorkersAsync()),
            Task.Run(async () => _workers[1] = await StartWorkersAsync()));
    }

    public async Task DisposeAsync()
    {
        foreach (var process in _started) await process.DisposeAsync();
        foreach (var client in _clients) client?.Dispose();
        await _partner.DisposeAsync();
        await _refuser.DisposeAsync();
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
        if (Directory.Exists(_witness)) Directory.Delete(_witness, recursive: true);
    }

    private readonly ConcurrentBag<WorkerProcess> _started = [];

    /// Starts a Workers process and waits until it has started: its health endpoint answers once its start-time work
    /// (migrations, the key ring, Wolverine's storage) is done. A process that meets the database crashing while it
    /// starts stops, for its supervisor to start again; this test crashes the database only once every process is up.
    private async Task<WorkerProcess> StartWorkersAsync()
    {
        var port = FreePorts.Next();
        var workers = WorkerProcess.Start(_database.ConnectionString, "Enate.Workers", port, WorkersSettings);
        _started.Add(workers);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        await HealthyAsync(client);
        return workers;
    }

    private async Task StartApiAsync(int i)
    {
        _apis[i] = WorkerProcess.Start(_database.ConnectionString, "Enate.Api", _apiPorts[i], ApiSettings);
        _started.Add(_apis[i]!);
        await HealthyAsync(_clients[i]);
    }

    private static Task HealthyAsync(HttpClient client) => Eventually.Get(async () =>
    {
        try
        {
            return (await client.GetAsync("/health")).StatusCode;
        }
        catch (HttpRequestException)
        {
            return HttpStatusCode.ServiceUnavailable;
        }
    }, status => status == HttpStatusCode.OK, TimeSpan.FromMinutes(2));

    private async Task<JsonElement> Call(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await _clients[0].SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<(string Path, string Secret)> WebhookRecipe(string key, string connection)
    {
        await Call(HttpMethod.Put, $"/api/v1/recipes/{key}", new
        {
            name = key,
            trigger = new { type = "webhook" },
            steps = new object[] { new { id = "post", type = "http", connection, method = "POST", path = "/orders", body = "{{ input | json }}" } },
        });
        var hook = await Call(HttpMethod.Get, $"/api/v1/recipes/{key}/webhook");
        return (new Uri(hook.GetProperty("url").GetString()!).AbsolutePath, hook.GetProperty("secret").GetString()!);
    }

    /// Sends one webhook until an API acknowledges it (202, or 200 for a repeat), trying the other API when one is
    /// gone or answers 5xx, as a sender behind a load balancer does. Returns the run it started.
    private async Task<Guid> SendAsync(string path, string secret, string id, int first)
    {
        var body = JsonSerializer.Serialize(new { id, amount = 10 });
        var deadline = DateTime.UtcNow.AddMinutes(3);
        for (var attempt = 0; ; attempt++)
        {
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("webhook-id", id);
            request.Headers.Add("webhook-timestamp", timestamp.ToString());
            request.Headers.Add("webhook-signature", StandardWebhookSigner.Sign(secret, id, timestamp, body));
            request.Headers.Authorization = null;
            try
            {
                using var response = await _clients[(first + attempt) % 2].SendAsync(request);
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
                Assert.True((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests,
                    $"webhook {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // That API is gone: the next attempt goes to the other.
            }
            Interlocked.Increment(ref _retries);
            Assert.True(DateTime.UtcNow < deadline, $"webhook {id} was never acknowledged");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task every_acknowledged_webhook_has_one_run_that_ends_and_nothing_is_done_twice()
    {
        Assert.True(_database.IsOwn, "The chaos test restarts PostgreSQL, so it needs a server of its own (unset ConnectionStrings__enate).");
        await Call(HttpMethod.Put, "/api/v1/connections/crm", new { kind = "http", baseUrl = _partner.BaseUrl, auth = new { type = "none" }, timeoutSeconds = 5 });
        await Call(HttpMethod.Put, "/api/v1/connections/refuser", new { kind = "http", baseUrl = _refuser.BaseUrl, auth = new { type = "none" }, timeoutSeconds = 5 });
        var orders = await WebhookRecipe("orders", "crm");
        var refusals = await WebhookRecipe("refusals", "refuser");
        await Call(HttpMethod.Put, "/api/v1/recipes/tick", new
        {
            name = "tick",
            trigger = new { type = "schedule", cron = "*/2 * * * * *" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input.schedule" } },
        });
        await Call(HttpMethod.Post, "/api/v1/notifications/endpoints", new { url = _receiver.BaseUrl + "/ops", types = new[] { NotificationTypes.RunFailed } });

        var acknowledged = new ConcurrentDictionary<string, Guid>();
        var work = Enumerable.Range(0, Orders).Select(i => (Path: orders.Path, orders.Secret, Id: $"msg_order_{i}"))
            .Concat(Enumerable.Range(0, Refusals).Select(i => (Path: refusals.Path, refusals.Secret, Id: $"msg_refusal_{i}")))
            .OrderBy(w => w.Id.GetHashCode()).ToArray();
        var next = -1;
        var senders = Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            for (var n = Interlocked.Increment(ref next); n < work.Length; n = Interlocked.Increment(ref next))
            {
                var (path, secret, id) = work[n];
                acknowledged[id] = await SendAsync(path, secret, id, n);
                await Task.Delay(40);
            }
        })).ToArray();

        // The chaos, at points along the load: each API and each Workers process killed once, PostgreSQL crashed once.
        async Task At(double share) => await Eventually.Get(() => Task.FromResult(acknowledged.Count), c => c >= work.Length * share, TimeSpan.FromMinutes(3));
        await At(0.15);
        await _apis[0]!.KillAsync();
        await StartApiAsync(0);
        await At(0.3);
        await _workers[0]!.KillAsync();
        _workers[0] = await StartWorkersAsync();
        await At(0.45);
        await _database.RestartAsync();
        await At(0.6);
        await _apis[1]!.KillAsync();
        await StartApiAsync(1);
        await At(0.75);
        await _workers[1]!.KillAsync();
        _workers[1] = await StartWorkersAsync();
        await Task.WhenAll(senders);
        Assert.Equal(work.Length, acknowledged.Count);

        // Every acknowledged webhook's run ends, and nothing is left unfinished.
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        async Task<List<(Guid Id, string Recipe, string Status, string? Reason)>> Runs()
        {
            await using var command = new NpgsqlCommand(
                $"select id, data ->> 'recipeKey', data ->> 'status', data ->> 'reason' from {EnateStore.Schema}.mt_doc_runsummary", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var runs = new List<(Guid, string, string, string?)>();
            while (await reader.ReadAsync()) runs.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            return runs;
        }
        var ended = await Eventually.Get(Runs, runs => runs.Where(r => r.Recipe != "tick").All(r => r.Status is "succeeded" or "failed")
                                                       && runs.Count(r => r.Recipe != "tick") >= work.Length, TimeSpan.FromMinutes(4));
        await Call(HttpMethod.Post, "/api/v1/recipes/tick/deactivate");

        // One run per acknowledged webhook, the same one the acknowledgement named; none other.
        var webhookRuns = ended.Where(r => r.Recipe != "tick").ToList();
        Assert.Equal(work.Length, webhookRuns.Count);
        Assert.Equal(acknowledged.Values.Order(), webhookRuns.Select(r => r.Id).Order());
        Assert.All(webhookRuns, r => Assert.True((r.Recipe == "orders" ? "succeeded" : "failed") == r.Status, $"{r.Recipe} run {r.Id} {r.Status}: {r.Reason}"));
        await using (var inbound = new NpgsqlCommand(
            $"select count(*) from {EnateStore.Schema}.mt_doc_inboundrequest where data ->> 'verdict' = 'accepted' and data ->> 'trigger' = 'webhook'", connection))
            Assert.Equal((long)work.Length, (long)(await inbound.ExecuteScalarAsync())!);

        // The partner saw each order's effect under the run's one key; a call repeated after a kill carried the same key.
        var orderRuns = webhookRuns.Where(r => r.Recipe == "orders").Select(r => $"{r.Id}:post").ToHashSet();
        Assert.Equal(orderRuns.Order(), _partner.SuccessesByKey.Keys.Order());

        // The schedule: each fired occurrence is one inbound record and one run, and the runs end.
        var ticks = await Eventually.Get(async () => (await Runs()).Where(r => r.Recipe == "tick").ToList(),
            runs => runs.All(r => r.Status == "succeeded"), TimeSpan.FromMinutes(1));
        Assert.NotEmpty(ticks);
        await using (var fired = new NpgsqlCommand(
            $"select count(*), count(distinct data ->> 'deliveryKey') from {EnateStore.Schema}.mt_doc_inboundrequest where data ->> 'trigger' = 'schedule'", connection))
        await using (var reader = await fired.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal(ticks.Count, reader.GetInt64(0));
            Assert.Equal(ticks.Count, reader.GetInt64(1));
        }

        // Each failed run made one notification, delivered; the receiver heard each one, under its own id.
        var failedIds = webhookRuns.Where(r => r.Recipe == "refusals").Select(r => Notify.IdFor(NotificationTypes.RunFailed, r.Id.ToString())).ToHashSet();
        var deliveries = await Eventually.Get(async () =>
        {
            await using var command = new NpgsqlCommand(
                $"select data ->> 'notificationId', data ->> 'status' from {EnateStore.Schema}.mt_doc_notificationdelivery", connection);
            await using var reader = await command.ExecuteReaderAsync();
            var found = new List<(string Id, string Status)>();
            while (await reader.ReadAsync()) found.Add((reader.GetString(0), reader.GetString(1)));
            return found;
        }, found => found.Count >= failedIds.Count && found.All(d => d.Status == DeliveryStatus.Delivered), TimeSpan.FromMinutes(2));
        Assert.Equal(failedIds.Order(), deliveries.Select(d => d.Id).Order());
        Assert.Equal(failedIds.Order(), _receiver.Requests.Select(r => r.Headers["webhook-id"]).Distinct().Order());
        // The record holds together after it all (failed transactions leave tombstones in the log: chained too).
        var verified = await Call(HttpMethod.Get, "/api/v1/audit/verify");
        Assert.True(verified.GetProperty("ok").GetBoolean(), verified.GetRawText());
        // No process gave up on its own: every one that ended was killed here.
        foreach (var process in _started)
            Assert.DoesNotContain(process.Output(), line => line.Contains("BackgroundService failed") || line.StartsWith("crit:"));
        output.WriteLine($"webhooks acknowledged {acknowledged.Count} after {_retries} refused or unanswered attempts; partner calls {_partner.Requests.Count} " +
                         $"for {orderRuns.Count} runs; schedule runs {ticks.Count}; notifications {deliveries.Count}, receiver requests {_receiver.Requests.Count}; " +
                         $"events chained {verified.GetProperty("checked").GetInt64()}");
    }
}
