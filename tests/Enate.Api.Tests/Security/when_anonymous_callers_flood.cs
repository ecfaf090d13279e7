using System.Net;
using System.Text;
using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Enate.Api.Tests.Security;

/// Its own API with small budgets: a flood of refused deliveries from one address — thousands of random ids and
/// spellings, large bodies — writes only a few small records and meets 429s, while a partner at another address keeps
/// getting its deliveries accepted.
public sealed class when_anonymous_callers_flood(ITestOutputHelper output) : IAsyncLifetime
{
    private const int UnknownPerMinute = 5;
    private const int PrefixBytes = 256;
    private TestDatabase _database = null!;
    private IAlbaHost _api = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        _api = await AppFixture.StartApiAsync(_database.ConnectionString, settings: new Dictionary<string, string>
        {
            ["Enate:RateLimits:AnonymousPerAddressPerSecond"] = "20",
            ["Enate:RateLimits:PerWebhookPerSecond"] = "20",
            ["Enate:Inbound:UnknownRecordsPerMinute"] = UnknownPerMinute.ToString(),
            ["Enate:Inbound:RejectedBodyBytes"] = PrefixBytes.ToString(),
        });
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task a_flood_of_refused_deliveries_is_cheap_and_another_hook_still_gets_its_deliveries()
    {
        await _api.PutRecipe("partner-hook", new
        {
            name = "Partner hook", trigger = new { type = "webhook" },
            steps = new object[] { new { id = "echo", type = "transform", select = "input" } },
        });
        var hook = await _api.GetAsJson<JsonElement>("/api/v1/recipes/partner-hook/webhook");
        var path = new Uri(hook.GetProperty("url").GetString()!).AbsolutePath;
        var secret = hook.GetProperty("secret").GetString()!;
        var attacker = IPAddress.Parse("203.0.113.66");
        var partner = IPAddress.Parse("198.51.100.7");
        var large = Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 64 * 1024) + "\"}");
        var random = new Random(18);
        var statuses = new Dictionary<int, int>();
        var started = DateTime.UtcNow;

        for (var i = 0; i < 3000; i++)
        {
            var id = Guid.NewGuid();
            var target = (i % 4) switch
            {
                0 => $"/api/v1/hooks/{id}",
                1 => $"/api/v1/hooks/{id.ToString("N").ToUpperInvariant()}",
                2 => $"/api/v1/enate/webhooks/{{{id}}}",
                _ => $"/api/v1/hooks/not-a-guid-{random.Next()}",
            };
            var status = await Post(target, large, attacker, []);
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (i == 1500)
            {
                // In the middle of the flood: a partner's signed delivery to its own hook, from its own address.
                var body = "{\"type\":\"employee.onboarded\"}";
                var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var accepted = await Post(path, Encoding.UTF8.GetBytes(body), partner,
                    [("webhook-id", "msg_during_flood"), ("webhook-timestamp", ts.ToString()),
                     ("webhook-signature", Triggers.StandardWebhookSigner.Sign(secret, "msg_during_flood", ts, body))]);
                Assert.Equal(202, accepted);
            }
        }

        var minutes = (int)Math.Ceiling((DateTime.UtcNow - started).TotalMinutes);
        output.WriteLine($"{string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}"))} in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        Assert.True(statuses.GetValueOrDefault(429) > 0, "no 429 during the flood");
        Assert.DoesNotContain(statuses.Keys, s => s >= 500);

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand(
            "select count(*), coalesce(sum(length(data::text)), 0), coalesce(max(length(data -> 'body' ->> 'text')), 0) " +
            "from enate.mt_events where type = 'inbound_request_recorded' and tenant_id = '_platform'", connection);
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (records, bytes, longestBody) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2));
        output.WriteLine($"{records} records of unknown ids, {bytes} bytes, longest body kept {longestBody} characters");
        Assert.InRange(records, 1, UnknownPerMinute * (minutes + 1));
        Assert.True(longestBody <= PrefixBytes);
        Assert.True(bytes <= records * (PrefixBytes + 2048), $"{bytes} bytes for {records} records");
    }

    private async Task<int> Post(string path, byte[] body, IPAddress from, (string Name, string Value)[] headers) =>
        (await _api.PostBytes(path, body, headers.Append(("Authorization", "")), from)).Status;
}
