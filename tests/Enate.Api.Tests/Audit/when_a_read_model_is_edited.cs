using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Audit;

/// The event log verifies, yet the API serves read models: a failed run edited into a succeeded one, an inbound
/// record edited, a document no event produced. The read-model check builds each document again from its events and
/// names every difference. A tenant of its own, since tests share the event log but not documents.
public sealed class when_a_read_model_is_edited(AppFixture app) : AppTest(app)
{
    private string _key = "";

    [Fact]
    public async Task the_check_names_the_document_and_the_field()
    {
        await TenantWithRecipeAsync("read-models", "fails", """{"x": }""");
        var failed = (await Send(s => s.Post.Json(new { n = 1 }).ToUrl("/api/v1/recipes/fails/runs"))).GetProperty("runId").GetGuid();
        var run = await Eventually.Get(() => Send(s => s.Get.Url($"/api/v1/runs/{failed}")), r => r.GetProperty("status").GetString() == RunStatus.Failed);
        var inbound = run.GetProperty("inboundId").GetGuid();
        var untouched = await Send(s => s.Get.Url("/api/v1/audit/verify-read-models"));
        Assert.True(untouched.GetProperty("ok").GetBoolean(), untouched.ToString());
        Assert.Equal(1, untouched.GetProperty("checked").GetProperty("RunSummary").GetInt64());

        var orphan = Guid.CreateVersion7();
        await Sql($"update enate.mt_doc_runsummary set data = jsonb_set(data, '{{status}}', '\"succeeded\"') where id = '{failed}'; " +
                  $"update enate.mt_doc_inboundrequest set data = jsonb_set(data, '{{verdict}}', '\"duplicate\"') where id = '{inbound}'; " +
                  $"insert into enate.mt_doc_runsummary (tenant_id, id, data, mt_dotnet_type, mt_version) " +
                  $"select tenant_id, '{orphan}', data, mt_dotnet_type, 1 from enate.mt_doc_runsummary where id = '{failed}'");
        Assert.Equal("succeeded", (await Send(s => s.Get.Url($"/api/v1/runs/{failed}"))).GetProperty("status").GetString());

        var check = await Send(s => s.Get.Url("/api/v1/audit/verify-read-models"));

        Assert.False(check.GetProperty("ok").GetBoolean());
        var found = check.GetProperty("first").EnumerateArray().Select(m => (m.GetProperty("document").GetString(), m.GetProperty("id").GetString(),
            m.GetProperty("field").GetString())).ToList();
        Assert.Contains(("RunSummary", failed.ToString(), "status"), found);
        Assert.Contains(("InboundRequest", inbound.ToString(), "verdict"), found);
        Assert.Contains(("RunSummary", orphan.ToString(), "(document)"), found);
        var status = check.GetProperty("first").EnumerateArray().Single(m => m.GetProperty("field").GetString() == "status");
        Assert.Equal("succeeded", status.GetProperty("stored").GetString());
        Assert.Equal("failed", status.GetProperty("fromEvents").GetString());
    }

    /// A large tenant is checked a page at a time: the pages together check what one request does, each difference
    /// shows on the page whose streams hold it, and a document without a stream on the page whose ids cover it.
    [Fact]
    public async Task a_tenant_is_checked_page_by_page_with_nothing_missed_or_counted_twice()
    {
        await TenantWithRecipeAsync("read-model-pages", "shapes", """{"n": {{ input.n }} }""");
        var runs = new List<Guid>();
        for (var n = 0; n < 5; n++)
            runs.Add((await Send(s => s.Post.Json(new { n }).ToUrl("/api/v1/recipes/shapes/runs"))).GetProperty("runId").GetGuid());
        foreach (var id in runs)
            await Eventually.Get(() => Send(s => s.Get.Url($"/api/v1/runs/{id}")), r => r.GetProperty("status").GetString() == RunStatus.Succeeded);
        var whole = await Send(s => s.Get.Url("/api/v1/audit/verify-read-models"));
        Assert.True(whole.GetProperty("ok").GetBoolean(), whole.ToString());
        Assert.Equal(JsonValueKind.Null, whole.GetProperty("nextCursor").ValueKind);

        var edited = runs[2];
        var orphan = Guid.CreateVersion7();
        await Sql($"update enate.mt_doc_runsummary set data = jsonb_set(data, '{{status}}', '\"failed\"') where id = '{edited}'; " +
                  $"insert into enate.mt_doc_runsummary (tenant_id, id, data, mt_dotnet_type, mt_version) " +
                  $"select tenant_id, '{orphan}', data, mt_dotnet_type, 1 from enate.mt_doc_runsummary where id = '{edited}'");

        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var url = "/api/v1/audit/verify-read-models?limit=3" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await Send(s => s.Get.Url(url));
            pages.Add(page);
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null && pages.Count < 50);

        Assert.True(pages.Count > 2, $"{pages.Count} pages");
        foreach (var model in new[] { "RunSummary", "InboundRequest" })
            Assert.Equal(whole.GetProperty("checked").GetProperty(model).GetInt64(),
                pages.Sum(p => p.GetProperty("checked").GetProperty(model).GetInt64()));
        var found = pages.SelectMany(p => p.GetProperty("first").EnumerateArray())
            .Select(m => (m.GetProperty("id").GetString(), m.GetProperty("field").GetString())).ToList();
        Assert.Equal([(edited.ToString(), "status"), (orphan.ToString(), "(document)")], found);
        Assert.Equal(2, pages.Sum(p => p.GetProperty("mismatches").GetInt64()));
    }

    [Fact]
    public async Task a_page_it_cannot_read_is_refused()
    {
        _key = await App.SeedKeyAsync($"read-model-pages-{Guid.NewGuid():N}", Scopes.AuditRead);
        foreach (var (query, status, kind) in new[]
                 {
                     ("limit=0", 422, "validation"), ("limit=100001", 422, "validation"), ("cursor=bm90LW91cnM6eA%3D%3D", 400, "invalid-cursor"),
                     ($"cursor={Uri.EscapeDataString(Enate.Api.Platform.Paging.Cursor("read-models", "not-an-id"))}", 400, "invalid-cursor"),
                     ($"cursor={Uri.EscapeDataString(Enate.Api.Platform.Paging.Cursor("runs", Guid.Empty.ToString()))}", 400, "invalid-cursor"),
                 })
        {
            var result = await Api.Scenario(s =>
            {
                s.Get.Url($"/api/v1/audit/verify-read-models?{query}");
                s.WithRequestHeader("Authorization", $"Bearer {_key}");
                s.StatusCodeShouldBe(status);
            });
            Assert.EndsWith("/" + kind, result.ReadAsJson<JsonElement>().GetProperty("type").GetString());
        }
    }

    /// A tenant of its own, its admin key for Send, and a recipe of one transform step with this template.
    private async Task TenantWithRecipeAsync(string tenant, string recipe, string template)
    {
        _key = await App.SeedKeyAsync($"{tenant}-{Guid.NewGuid():N}", Scopes.Admin);
        await Send(s => s.Put.Json(new
        {
            name = recipe, trigger = new { type = "api" },
            steps = new object[] { new { id = "shape", type = "transform", template } },
        }).ToUrl($"/api/v1/recipes/{recipe}"));
    }

    private async Task<JsonElement> Send(Action<Scenario> request)
    {
        var result = await Api.Scenario(s =>
        {
            request(s);
            s.WithRequestHeader("Authorization", $"Bearer {_key}");
            s.IgnoreStatusCode();
            s.StatusCodeShouldBeSuccess();
        });
        return result.ReadAsJson<JsonElement>();
    }

    private async Task Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
