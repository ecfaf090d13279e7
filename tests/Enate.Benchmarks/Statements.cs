using Npgsql;

namespace Enate.Benchmarks;

/// With `BENCH_STATEMENTS=1` (and `BENCH_PG=shared_preload_libraries=pg_stat_statements`), what PostgreSQL spent a
/// measured burst on, statement by statement: for working on the platform's cost per run, not a figure to quote.
public static class Statements
{
    private static bool On => Environment.GetEnvironmentVariable("BENCH_STATEMENTS") == "1";

    public static async Task ResetAsync(string connectionString)
    {
        if (!On) return;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("create extension if not exists pg_stat_statements; select pg_stat_statements_reset()", connection);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task PrintAsync(string connectionString, string what)
    {
        if (!On) return;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "select calls, round(total_exec_time::numeric, 1), rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 150) " +
            "from pg_stat_statements order by total_exec_time desc limit 30", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Console.WriteLine($"  statements during {what} (calls, ms, rows, query):");
        while (await reader.ReadAsync())
            Console.WriteLine($"    {reader.GetInt64(0),7} {reader.GetDecimal(1),9} {reader.GetInt64(2),8}  {reader.GetString(3)}");
    }
}
