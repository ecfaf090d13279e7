using System.Net;
using System.Text.Json;
using Alba;
using Npgsql;

namespace Enate.Api.Tests.Connections;

public sealed class when_a_connection_has_secrets(AppFixture app) : AppTest(app)
{
    private const string Secret = "sk_live_RECOGNISABLE_4242";

    [Fact]
    public async Task they_are_encrypted_at_rest_and_never_returned()
    {
        await Api.PutConnection("crm", "http://127.0.0.1:9", new { type = "bearer", token = Secret });

        var read = await Api.Scenario(s => s.Get.Url("/api/v1/connections/crm"));
        var text = await read.ReadAsTextAsync();
        Assert.DoesNotContain(Secret, text);
        Assert.Equal("***", JsonDocument.Parse(text).RootElement.GetProperty("auth").GetProperty("token").GetString());

        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select data::text from enate.mt_doc_connection", connection);
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain(Secret, stored);
    }

    [Fact]
    public async Task sending_the_mask_back_keeps_the_stored_secret()
    {
        await Api.PutConnection("crm", "http://127.0.0.1:9", new { type = "bearer", token = Secret });
        await Api.PutConnection("crm", "http://127.0.0.1:9", new { type = "bearer", token = "***" });
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select data->'auth'->>'token' from enate.mt_doc_connection", connection);
        Assert.NotEqual("***", (string)(await command.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task a_connection_an_active_recipe_uses_cannot_be_deleted()
    {
        await Api.PutConnection("crm", "http://127.0.0.1:9");
        await Api.PutRecipe("uses-crm", new
        {
            name = "Uses CRM",
            trigger = new { type = "api" },
            steps = new object[] { new { id = "get", type = "http", connection = "crm", method = "GET", path = "/deals" } },
        });
        await Api.Scenario(s =>
        {
            s.Delete.Url("/api/v1/connections/crm");
            s.StatusCodeShouldBe(HttpStatusCode.Conflict);
        });
    }
}
