using System.Diagnostics;
using System.Text.Json;
using Alba;
using Enate.Domain.Runs;
using Enate.Domain.Security;
using Enate.Testing;
using Npgsql;

namespace Enate.Api.Tests.Audit;

/// The hash chain against someone with write access to the database: each kind of tampering done directly in
/// PostgreSQL is reported by GET /api/v1/audit/verify, and the export verifies offline with the shipped
/// Python script (and fails when a line is altered).
public sealed class when_the_record_is_verified(AppFixture app) : AppTest(app)
{
    private Guid _run;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Api.PutEchoRecipe("audited");
        for (var i = 0; i < 3; i++) _run = await Api.RequestRun("audited", new { amount = 343.00m, note = "é \"quoted\" \t tab", i });
        await Api.WaitForRun(_run, RunStatus.Succeeded);
        await Eventually.Get(Verify, v => v.GetProperty("unchained").GetInt64() == 0 && v.GetProperty("checked").GetInt64() > 0,
            TimeSpan.FromSeconds(30));
    }

    private Task<JsonElement> Verify() => Api.GetAsJson<JsonElement>("/api/v1/audit/verify");

    [Fact]
    public async Task an_untouched_record_verifies()
    {
        var verification = await Verify();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString() + await Dump());
        Assert.Equal(64, verification.GetProperty("headHash").GetString()!.Length);
    }

    [Fact]
    public async Task an_altered_event_is_reported()
    {
        var seq = await SeqOf(_run, version: 2);
        await Sql($"update enate.mt_events set data = jsonb_set(data, '{{worker}}', '\"someone-else\"') where seq_id = {seq}");
        try
        {
            await ExpectMismatch(seq, "altered");
        }
        finally
        {
            await Sql($"update enate.mt_events set data = jsonb_set(data, '{{worker}}', to_jsonb('{Environment.MachineName}'::text)) where seq_id = {seq}");
        }
        Assert.True((await Verify()).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task a_deleted_event_is_reported()
    {
        var seq = await SeqOf(_run, version: 3);
        await Sql($"create table enate.tamper_backup as select * from enate.mt_events where seq_id = {seq}; delete from enate.mt_events where seq_id = {seq}");
        try
        {
            await ExpectMismatch(seq, "deleted");
        }
        finally
        {
            await Sql("insert into enate.mt_events select * from enate.tamper_backup; drop table enate.tamper_backup");
        }
        Assert.True((await Verify()).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task reordered_events_are_reported()
    {
        var first = await SeqOf(_run, version: 2);
        var second = await SeqOf(_run, version: 3);
        const string swap = "update enate.mt_events set seq_id = -seq_id where seq_id in ({0}, {1}); " +
                            "update enate.mt_events set seq_id = case when seq_id = -{0} then {1} else {0} end where seq_id in (-{0}, -{1})";
        await Sql(string.Format(swap, first, second));
        try
        {
            await ExpectMismatch(Math.Min(first, second), "altered");
        }
        finally
        {
            await Sql(string.Format(swap, first, second));
        }
        Assert.True((await Verify()).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task the_export_verifies_offline_and_an_edited_line_does_not()
    {
        var export = await Api.GetAsText("/api/v1/audit/export");
        var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("{\"checkpoint\"")).ToArray();
        Assert.Equal((await Verify()).GetProperty("checked").GetInt64(), lines.Length);
        Assert.Contains(lines, l => l.Contains("343.00"));

        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, export);
            var (code, output) = await Python(file);
            Assert.True(code == 0, output);
            Assert.Contains($"verified {lines.Length} events", output);

            var edited = lines.Select(l => l.Contains("\"RunSucceeded\"") || l.Contains("run_succeeded") ? l.Replace("\"i\": 2", "\"i\": 7") : l);
            await File.WriteAllLinesAsync(file, edited);
            (code, output) = await Python(file);
            Assert.Equal(1, code);
            Assert.Contains("altered", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task another_tenant_verifies_and_exports_only_its_own()
    {
        var rival = await App.SeedKeyAsync("rival", Scopes.AuditRead);
        var export = await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/audit/export");
            s.WithRequestHeader("Authorization", $"Bearer {rival}");
        });
        Assert.DoesNotContain(_run.ToString(), export.ReadAsText());
        Assert.DoesNotContain("\"tenant\":\"demo\"", export.ReadAsText());
    }

    private async Task<string> Dump()
    {
        await using var c = new NpgsqlConnection(App.ConnectionString);
        await c.OpenAsync();
        await using var q = new NpgsqlCommand("select 'E' || string_agg(seq_id || ':' || tenant_id, ',' order by seq_id) from (select seq_id, tenant_id from enate.mt_events order by seq_id limit 8) x union all select 'C' || string_agg(seq_id || ':' || tenant_id, ',' order by seq_id) from (select seq_id, tenant_id from enate.audit_chain order by seq_id limit 8) y", c);
        await using var r = await q.ExecuteReaderAsync();
        var dump = "";
        while (await r.ReadAsync()) dump += r.GetValue(0) + " | ";
        return dump;
    }

    private async Task ExpectMismatch(long seq, string reason)
    {
        var verification = await Verify();
        Assert.True(verification.GetProperty("firstMismatch").ValueKind != JsonValueKind.Null && verification.GetProperty("firstMismatch").GetProperty("seq").GetInt64() == seq, verification + await Dump());
        Assert.False(verification.GetProperty("ok").GetBoolean());
        var mismatch = verification.GetProperty("firstMismatch");
        Assert.Equal(seq, mismatch.GetProperty("seq").GetInt64());
        Assert.Equal(reason, mismatch.GetProperty("reason").GetString());
    }

    private async Task<long> SeqOf(Guid stream, int version)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select seq_id from enate.mt_events where stream_id = @s and version = @v", connection);
        command.Parameters.AddWithValue("s", stream);
        command.Parameters.AddWithValue("v", (long)version);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<(int Code, string Output)> Python(string file)
    {
        var script = Path.Combine(WorkerProcess.RepositoryRoot(), "tools", "verify-audit-export.py");
        var key = (await Api.GetAsJson<JsonElement>("/api/v1/audit/keys")).GetProperty("items")[0].GetProperty("publicKey").GetString()!;
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(file);
        info.ArgumentList.Add("--public-key");
        info.ArgumentList.Add(key);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
