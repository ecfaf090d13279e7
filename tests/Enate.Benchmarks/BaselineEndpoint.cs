using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Enate.Benchmarks;

/// The baseline's endpoint, run as its own process (`Enate.Benchmarks --baseline-endpoint --urls …`, the connection
/// string in ConnectionStrings__enate): one INSERT of the request body per request, and a health check.
public static class BaselineEndpoint
{
    public const string Argument = "--baseline-endpoint";

    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args.Where(a => a != Argument).ToArray());
        builder.Logging.ClearProviders();
        var connectionString = builder.Configuration.GetConnectionString("enate") ?? throw new InvalidOperationException("ConnectionStrings__enate is not set.");
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await using var create = new NpgsqlCommand("create table if not exists bench_ingest (id bigserial primary key, body jsonb not null, at timestamptz not null default now())", setup);
            await create.ExecuteNonQueryAsync();
        }
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok());
        app.MapPost("/ingest", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            await using var insert = dataSource.CreateCommand("insert into bench_ingest (body) values (@body::jsonb)");
            insert.Parameters.AddWithValue("body", await reader.ReadToEndAsync());
            await insert.ExecuteNonQueryAsync();
            return Results.Accepted();
        });
        await app.RunAsync();
    }
}
