using System.Diagnostics;
using System.Text.Json;
using Alba;
using Enate.Domain.Audit;
using Enate.Domain.Runs;
using Enate.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Enate.Api.Tests.Audit;

/// Someone who can write the database rewrites history and recomputes the chain so it agrees with itself. The
/// checkpoints signed with a key that is not in the database, and kept by a witness outside it, still contradict
/// the rewritten chain: through the API and offline, with only the export and the public key.
public sealed class when_the_record_is_proved_outside_the_database(AppFixture app) : AppTest(app)
{
    private Guid _run;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Api.PutEchoRecipe("proved");
        await RunsAsync(3);
    }

    private async Task RunsAsync(int count)
    {
        for (var i = 0; i < count; i++) _run = await Api.RequestRun("proved", new { amount = 10 + i });
        await Api.WaitForRun(_run, RunStatus.Succeeded);
        await Eventually.Get(Verify, v => v.GetProperty("unchained").GetInt64() == 0, TimeSpan.FromSeconds(30));
    }

    private Task<JsonElement> Verify() => Api.GetAsJson<JsonElement>("/api/v1/audit/verify");

    /// Signs one now: 201, or 200 when the chain has not moved since the last.
    private async Task<JsonElement> CheckpointAsync(int status = 201)
    {
        var result = await Api.Scenario(s =>
        {
            s.Post.Url("/api/v1/audit/checkpoints");
            s.StatusCodeShouldBe(status);
        });
        return result.ReadAsJson<JsonElement>();
    }

    [Fact]
    public async Task the_checkpoints_are_listed_newest_first_a_page_at_a_time()
    {
        var numbers = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            numbers.Add((await CheckpointAsync()).GetProperty("number").GetInt64());
            await RunsAsync(1);
        }
        // The Workers may sign one of their own meanwhile (every minute): pages are checked against the whole list.
        static List<long> Numbers(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("number").GetInt64()).ToList();
        var all = Numbers(await Api.GetAsJson<JsonElement>("/api/v1/audit/checkpoints?limit=500"));
        Assert.Subset(all.ToHashSet(), numbers.ToHashSet());
        Assert.Equal(all.OrderDescending(), all);
        var first = await Api.GetAsJson<JsonElement>("/api/v1/audit/checkpoints?limit=2");
        Assert.Equal(all.Take(2), Numbers(first));
        var cursor = first.GetProperty("nextCursor").GetString();
        var second = await Api.GetAsJson<JsonElement>($"/api/v1/audit/checkpoints?limit=2&cursor={Uri.EscapeDataString(cursor!)}");
        Assert.Equal(all.Skip(2).Take(2), Numbers(second));
        Assert.Equal(all.Count > 4, second.GetProperty("nextCursor").ValueKind == JsonValueKind.String);
    }

    [Fact]
    public async Task the_public_key_is_served_and_signs_the_checkpoints()
    {
        var checkpoint = await CheckpointAsync();
        var keys = await Api.Scenario(s =>
        {
            s.Get.Url("/api/v1/audit/keys");
            s.WithRequestHeader("Authorization", "");
        });

        var key = Assert.Single(keys.ReadAsJson<JsonElement>().GetProperty("items").EnumerateArray());
        Assert.Equal(checkpoint.GetProperty("keyId").GetString(), key.GetProperty("keyId").GetString());
        Assert.Equal("Ed25519", key.GetProperty("algorithm").GetString());
        Assert.Equal(1, checkpoint.GetProperty("number").GetInt64());
        var verification = await Verify();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());
        Assert.Equal(1, verification.GetProperty("witness").GetProperty("checkpoints").GetInt64());
    }

    [Fact]
    public async Task a_chain_rewritten_in_the_database_is_reported_against_the_witness_and_offline()
    {
        var checkpoint = await CheckpointAsync();
        var seq = await SeqOfAsync(_run, version: 2);
        await using var backup = await BackupAsync();

        await Sql($"update enate.mt_events set data = jsonb_set(data, '{{worker}}', '\"someone-else\"') where seq_id = {seq}");
        await RecomputeChainAsync();

        var verification = await Verify();
        Assert.False(verification.GetProperty("ok").GetBoolean());
        var mismatch = verification.GetProperty("firstMismatch");
        Assert.Equal("rewritten", mismatch.GetProperty("reason").GetString());
        Assert.Equal(checkpoint.GetProperty("number").GetInt64(), mismatch.GetProperty("checkpoint").GetInt64());

        var (code, output) = await VerifyExportAsync();
        Assert.Equal(1, code);
        Assert.Contains("rewritten", output);
    }

    [Fact]
    public async Task a_chain_cut_short_in_the_database_is_reported()
    {
        var checkpoint = await CheckpointAsync();
        var last = checkpoint.GetProperty("seq").GetInt64();
        await using var backup = await BackupAsync();

        await Sql($"delete from enate.audit_chain where seq_id >= {last}; " +
                  $"create table enate.tamper_events as select * from enate.mt_events where seq_id >= {last}; delete from enate.mt_events where seq_id >= {last}");
        try
        {
            var verification = await Verify();
            Assert.Equal("rewritten", verification.GetProperty("firstMismatch").GetProperty("reason").GetString());
            Assert.Contains("ends at seq", verification.GetProperty("firstMismatch").GetProperty("detail").GetString());
        }
        finally
        {
            await Sql("insert into enate.mt_events select * from enate.tamper_events; drop table enate.tamper_events");
        }
    }

    [Fact]
    public async Task a_forged_checkpoint_and_a_removed_one_are_reported()
    {
        await CheckpointAsync();
        await RunsAsync(1);
        await CheckpointAsync();
        await RunsAsync(1);
        var third = await CheckpointAsync();
        var file = Directory.GetFiles(App.WitnessFolder, "checkpoints-*.ndjson").Single();
        var original = await File.ReadAllLinesAsync(file);

        // Signed with a key the platform does not hold, linked and numbered as the next one.
        var forger = AuditSigner.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Enate:Audit:SigningKey"] = "someone-elses-key-0000000000000000000" }).Build())!;
        var previous = JsonSerializer.Deserialize<Checkpoint>(third.GetRawText(), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var forged = previous with { Number = 4, Previous = previous.Hash, KeyId = forger.KeyId, Signature = "" };
        forged = forged with { Signature = forger.Sign(forged.Canonical) };
        await File.AppendAllTextAsync(file, JsonSerializer.Serialize(forged, new JsonSerializerOptions(JsonSerializerDefaults.Web)) + "\n");
        var verification = await Verify();
        Assert.Equal("forged-checkpoint", verification.GetProperty("firstMismatch").GetProperty("reason").GetString());
        Assert.Equal(4, verification.GetProperty("firstMismatch").GetProperty("checkpoint").GetInt64());

        await File.WriteAllLinesAsync(file, original.Where(l => !l.Contains("\"number\":2,")));
        verification = await Verify();
        Assert.Equal("checkpoint-missing", verification.GetProperty("firstMismatch").GetProperty("reason").GetString());
        Assert.Equal(3, verification.GetProperty("firstMismatch").GetProperty("checkpoint").GetInt64());

        await File.WriteAllLinesAsync(file, original);
        Assert.True((await Verify()).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task a_signing_cut_short_hands_its_checkpoint_over_on_the_next_and_a_repeated_one_reads_once()
    {
        await CheckpointAsync();
        await RunsAsync(1);
        await CheckpointAsync();
        var file = Directory.GetFiles(App.WitnessFolder, "checkpoints-*.ndjson").Single();

        // Cut short after the database committed the last checkpoint, before the witness got it.
        var cut = await WhileSigningIsHeldAsync(async connection =>
        {
            var lines = (await File.ReadAllLinesAsync(file)).ToList();
            var at = lines.FindLastIndex(l => l.Contains("\"tenant\":\"demo\""));
            var last = JsonSerializer.Deserialize<Checkpoint>(lines[at], new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            lines.RemoveAt(at);
            await File.WriteAllLinesAsync(file, lines);
            await using var unwitnessed = new NpgsqlCommand(
                $"update {Checkpointing.Table} set witnessed = false where tenant_id = 'demo' and number = {last.Number}", connection);
            await unwitnessed.ExecuteNonQueryAsync();
            return last.Number;
        });
        await RunsAsync(1);
        await CheckpointAsync();
        var numbers = await NumbersAsync();
        Assert.Equal(Enumerable.Range(1, numbers.Count).Select(n => (long)n), numbers);
        Assert.Contains(cut, numbers);
        Assert.Contains(cut + 1, numbers);
        var verification = await Verify();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());

        // Cut short after the witness got it, before the database marked it: handed over again, read once.
        var repeated = await WhileSigningIsHeldAsync(async connection =>
        {
            await using var unwitnessed = new NpgsqlCommand(
                $"update {Checkpointing.Table} set witnessed = false where tenant_id = 'demo' and number = " +
                $"(select max(number) from {Checkpointing.Table} where tenant_id = 'demo') returning number", connection);
            return (long)(await unwitnessed.ExecuteScalarAsync())!;
        });
        await CheckpointAsync(status: 200);
        Assert.Equal(2, (await File.ReadAllLinesAsync(file)).Count(l => l.Contains("\"tenant\":\"demo\"") && l.Contains($"\"number\":{repeated},")));
        Assert.Equal(Enumerable.Range(1, (int)repeated).Select(n => (long)n), await NumbersAsync());
        verification = await Verify();
        Assert.True(verification.GetProperty("ok").GetBoolean(), verification.ToString());
        Assert.Equal(repeated, verification.GetProperty("witness").GetProperty("checkpoints").GetInt64());
        var (code, output) = await VerifyExportAsync();
        Assert.True(code == 0, output);
    }

    /// Holds the chain's lock, as a signing does, so no Workers process signs while `change` plays a cut-short one.
    private async Task<long> WhileSigningIsHeldAsync(Func<NpgsqlConnection, Task<long>> change)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using (var locked = new NpgsqlCommand($"select pg_advisory_lock({AuditChain.LockKey})", connection)) await locked.ExecuteNonQueryAsync();
        var changed = await change(connection);
        await using (var unlock = new NpgsqlCommand($"select pg_advisory_unlock({AuditChain.LockKey})", connection)) await unlock.ExecuteNonQueryAsync();
        return changed;
    }

    private async Task<List<long>> NumbersAsync() =>
        (await Api.GetAsJson<JsonElement>("/api/v1/audit/checkpoints?limit=500")).GetProperty("items").EnumerateArray()
        .Select(c => c.GetProperty("number").GetInt64()).Reverse().ToList();

    [Fact]
    public async Task the_export_carries_its_checkpoints_and_verifies_with_only_the_public_key()
    {
        await CheckpointAsync();
        await RunsAsync(1);
        await CheckpointAsync();

        var (code, output) = await VerifyExportAsync();
        Assert.True(code == 0, output);
        Assert.Contains("and 2 checkpoints", output);

        var (withoutKey, refusal) = await VerifyExportAsync(publicKey: null);
        Assert.Equal(2, withoutKey);
        Assert.Contains("--public-key", refusal);
        var (wrongKey, forged) = await VerifyExportAsync(publicKey: Convert.ToBase64String(new byte[32]));
        Assert.Equal(1, wrongKey);
        Assert.Contains("not signed by any given key", forged);
    }

    /// Exports the tenant's record and runs the shipped offline verifier on it, with the platform's public key.
    private async Task<(int Code, string Output)> VerifyExportAsync(string? publicKey = "")
    {
        var export = await Api.GetAsText("/api/v1/audit/export");
        var key = publicKey == ""
            ? (await Api.GetAsJson<JsonElement>("/api/v1/audit/keys")).GetProperty("items")[0].GetProperty("publicKey").GetString()
            : publicKey;
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, export);
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { Path.Combine(WorkerProcess.RepositoryRoot(), "tools", "verify-audit-export.py"), file })
                start.ArgumentList.Add(argument);
            if (key is not null)
            {
                start.ArgumentList.Add("--public-key");
                start.ArgumentList.Add(key);
            }
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// What an attacker with the database and this algorithm does: every chain hash recomputed from the events as they
    /// now are, so the chain agrees with itself again.
    private async Task RecomputeChainAsync()
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        var events = new List<AuditChain.Event>();
        await using (var read = new NpgsqlCommand(
            $"select {AuditChain.EventColumns} from enate.mt_events e join enate.audit_chain c on c.seq_id = e.seq_id " +
            "where e.tenant_id = 'demo' order by e.seq_id", connection))
        await using (var reader = await read.ExecuteReaderAsync())
            while (await reader.ReadAsync()) events.Add(AuditChain.Event.Read(reader));
        var previous = AuditChain.Genesis;
        foreach (var e in events)
        {
            var hash = AuditChain.Hash(previous, e);
            await using var update = new NpgsqlCommand("update enate.audit_chain set hash = @hash, previous = @previous where seq_id = @seq", connection);
            update.Parameters.AddWithValue("hash", hash);
            update.Parameters.AddWithValue("previous", previous);
            update.Parameters.AddWithValue("seq", e.Seq);
            await update.ExecuteNonQueryAsync();
            previous = hash;
        }
    }

    /// Keeps the events and the chain as they are, and puts them back when disposed.
    private async Task<Restore> BackupAsync()
    {
        await Sql("create table enate.backup_events as select * from enate.mt_events; create table enate.backup_chain as select * from enate.audit_chain");
        return new Restore(this);
    }

    private sealed class Restore(when_the_record_is_proved_outside_the_database test) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await test.Sql(
            "update enate.mt_events e set data = b.data from enate.backup_events b where b.seq_id = e.seq_id; " +
            "update enate.audit_chain c set hash = b.hash, previous = b.previous from enate.backup_chain b where b.seq_id = c.seq_id; " +
            "insert into enate.audit_chain select * from enate.backup_chain b where not exists (select 1 from enate.audit_chain c where c.seq_id = b.seq_id); " +
            "drop table enate.backup_events; drop table enate.backup_chain");
    }

    private async Task<long> SeqOfAsync(Guid stream, int version)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select seq_id from enate.mt_events where stream_id = @id and version = @version", connection);
        command.Parameters.AddWithValue("id", stream);
        command.Parameters.AddWithValue("version", version);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task Sql(string sql)
    {
        await using var connection = new NpgsqlConnection(App.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
