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
        _key = await App.SeedKeyAsync($"read-models-{Guid.NewGuid():N}", Scopes.Admin);
        await Send(s => s.Put.Json(new
        {
            name = "Fails", trigger = new { type = "api" },
            steps = new object[] { new { id = "shape", type = "transform", template = """{"x": }""" } },
        }).ToUrl("/api/v1/recipes/fails"));
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
