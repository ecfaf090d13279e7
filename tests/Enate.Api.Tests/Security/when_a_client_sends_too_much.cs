using System.Net;
using System.Text.Json;
using Alba;
using Enate.Domain;
using Enate.Testing;
using JasperFx.CommandLine;
using Microsoft.AspNetCore.Hosting;

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
            web.UseSetting("Enate:RateLimits:PerWebhookPerSecond", "2");
        });
    }

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
        Assert.Equal("https://enate.dev/problems/rate-limited", last.Type);
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

    private sealed record HttpResponseMessageHeaders(string RetryAfter, string Type);
}
