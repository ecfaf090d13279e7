using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;
using Enate.Domain.Security;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Enate.Api.Tests.Security;

/// Its own API with tiny limits, so the shared fixture's tests are never throttled.
public sealed class when_a_client_sends_too_much : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private IAlbaHost _api = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        _api = await AlbaHost.For<Program>(web =>
        {
            web.UseEnvironment("Testing");
            web.UseSetting($"ConnectionStrings:{EnateStore.DatabaseName}", _database.ConnectionString);
            web.UseSetting("Enate:Bootstrap:ApiKey", AppFixture.AdminKey);
            web.UseSetting("Enate:RateLimits:PerKeyPerSecond", "2");
            web.UseSetting("Enate:RateLimits:PerTenantPerSecond", "3");
            web.UseSetting("Enate:RateLimits:PerWebhookPerSecond", "2");
            web.UseSetting("Enate:RateLimits:KeyLookupsPerAddressPerSecond", "2");
            web.ConfigureServices(services => services.ConfigureMarten(options => options.Logger(_sessions)));
        });
    }

    /// Counts the sessions the API opens: an API key lookup opens one.
    private readonly SessionCounter _sessions = new();

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task a_key_over_its_limit_gets_429_with_retry_after()
    {
        var statuses = new List<int>();
        HttpResponseMessageHeaders? last = null;
        for (var i = 0; i < 8; i++)
        {
            var result = await _api.Scenario(s =>
            {
                s.Get.Url("/api/v1/runs");
                s.WithRequestHeader("Authorization", $"Bearer {AppFixture.AdminKey}");
                s.IgnoreStatusCode();
            });
            statuses.Add(result.Context.Response.StatusCode);
            if (result.Context.Response.StatusCode == 429)
            {
                last = new(result.Context.Response.Headers.RetryAfter.ToString(), result.ReadAsJson<JsonElement>().GetProperty("type").GetString()!);
            }
        }
        Assert.Contains(200, statuses);
        Assert.Contains(429, statuses);
        Assert.NotNull(last);
        Assert.True(int.Parse(last.RetryAfter) >= 1);
        Assert.Equal("/problems/rate-limited", last.Type);
    }

    [Fact]
    public async Task a_webhook_endpoint_over_its_limit_gets_429()
    {
        var url = $"/api/v1/hooks/{Guid.NewGuid()}";
        var statuses = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            var result = await _api.Scenario(s =>
            {
                s.Post.Text("{}").ToUrl(url);
                s.WithRequestHeader("Content-Type", "application/json");
                s.IgnoreStatusCode();
            });
            statuses.Add(result.Context.Response.StatusCode);
        }
        Assert.Contains(404, statuses);
        Assert.Contains(429, statuses);
    }

    [Fact]
    public async Task many_keys_of_one_tenant_share_the_tenants_budget()
    {
        var keys = new List<string>();
        await using (var session = _api.Services.GetRequiredService<IDocumentStore>().LightweightSession())
        {
            for (var i = 0; i < 4; i++)
            {
                var key = ApiKey.NewKey();
                keys.Add(key);
                session.Store(new ApiKey { Id = ApiKey.HashOf(key), KeyId = Guid.CreateVersion7(), TenantId = "many-keys", Name = $"key {i}",
                    Scopes = [Scopes.RunsRead], CreatedAt = DateTimeOffset.UtcNow });
            }
            await session.SaveChangesAsync();
        }

        // Two requests a key stay within each key's own bucket (it holds four); eight in all are over the tenant's six.
        var statuses = new List<int>();
        foreach (var key in keys.Concat(keys))
        {
            var result = await _api.Scenario(s =>
            {
                s.Get.Url("/api/v1/runs");
                s.WithRequestHeader("Authorization", $"Bearer {key}");
                s.IgnoreStatusCode();
            });
            statuses.Add(result.Context.Response.StatusCode);
        }
        Assert.Contains(200, statuses);
        Assert.Contains(429, statuses);
    }

    [Fact]
    public async Task guessing_keys_cannot_load_the_database()
    {
        var from = System.Net.IPAddress.Parse("203.0.113.9");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var before = _sessions.Started;
        for (var i = 0; i < 50; i++)
        {
            var guess = await _api.Scenario(s =>
            {
                s.Get.Url("/api/v1/recipes");
                s.WithRequestHeader("Authorization", $"Bearer {ApiKey.NewKey()}");
                s.ConfigureHttpContext(context => context.Connection.RemoteIpAddress = from);
                s.IgnoreStatusCode();
            });
            Assert.Equal(401, guess.Context.Response.StatusCode);
        }
        var lookups = _sessions.Started - before;
        // A bucket of four, refilled by two a second: that many lookups, not fifty.
        Assert.InRange(lookups, 1, 4 + 2 * (int)Math.Ceiling(watch.Elapsed.TotalSeconds));

        // Another address is not held back by this one's guesses.
        var result = await _api.Scenario(s =>
        {
            s.Get.Url("/api/v1/recipes");
            s.WithRequestHeader("Authorization", $"Bearer {AppFixture.AdminKey}");
            s.ConfigureHttpContext(context => context.Connection.RemoteIpAddress = System.Net.IPAddress.Parse("198.51.100.1"));
        });
        Assert.Equal(200, result.Context.Response.StatusCode);
    }

    private sealed class SessionCounter : SessionWatch, IMartenLogger
    {
        private int _started;
        public int Started => _started;
        public IMartenSessionLogger StartSession(IQuerySession session)
        {
            Interlocked.Increment(ref _started);
            return this;
        }
        public void SchemaChange(string sql) { }
    }

    private sealed record HttpResponseMessageHeaders(string RetryAfter, string Type);
}
