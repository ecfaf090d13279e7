using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Enate.AppHost.Postgres;

/// The platform's one database, from wherever this machine can give it: `Postgres:Mode` is
/// `auto` (external, then container, then local), `container`, `local` or `external`.
public static class PostgresModes
{
    public const string DatabaseName = "enate";

    public static IResourceBuilder<IResourceWithConnectionString> AddEnateDatabase(this IDistributedApplicationBuilder builder)
    {
        var mode = (builder.Configuration["Postgres:Mode"] ?? "auto").Trim().ToLowerInvariant();
        var external = builder.Configuration.GetConnectionString(DatabaseName);

        if (mode == "auto")
        {
            mode = !string.IsNullOrWhiteSpace(external) ? "external"
                : ContainerRuntimeAnswers() ? "container"
                : LocalPostgres.BinariesExist ? "local"
                : throw new DistributedApplicationException(LocalPostgres.MissingBinariesMessage);
        }

        return mode switch
        {
            "external" => string.IsNullOrWhiteSpace(external)
                ? throw new DistributedApplicationException($"Postgres:Mode is 'external' but ConnectionStrings:{DatabaseName} is empty.")
                : builder.AddConnectionString(DatabaseName),
            "container" => builder.AddPostgres("postgres").WithDataVolume("enate-postgres-data")
                .WithArgs(LocalPostgres.DurableSettings.SelectMany(s => new[] { "-c", $"{s.Key}={s.Value}" }).ToArray())
                .AddDatabase(DatabaseName),
            "local" => builder.AddLocalPostgres(),
            _ => throw new DistributedApplicationException($"Postgres:Mode '{mode}' is not one of auto, container, local, external."),
        };
    }

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalPostgres(this IDistributedApplicationBuilder builder)
    {
        var port = builder.Configuration.GetValue("Postgres:Port", 55432);
        var dataDirectory = builder.Configuration["Postgres:DataDirectory"]
            ?? Path.Combine(builder.AppHostDirectory, "..", ".data", "postgres");
        var server = LocalPostgres.For(Path.GetFullPath(dataDirectory), port);
        if (!LocalPostgres.PortIsFree(port))
        {
            // Otherwise the health check would talk to whatever server holds the port.
            throw new DistributedApplicationException(
                $"Port {port} is in use, so the local PostgreSQL cannot start. Stop what holds it, or set Postgres:Port.");
        }

        // initdb once, before anything starts: the data folder then survives restarts of the app host.
        server.InitializeAsync(durable: true).GetAwaiter().GetResult();
        var (command, args) = server.ForegroundCommand(durable: true);
        var connectionString = server.ConnectionString(DatabaseName);

        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "postgres-accepts-connections", _ => new DatabaseReadyCheck(server), failureStatus: null, tags: null));

        return builder.AddResource(new LocalPostgresResource("postgres", command, server.DataDirectory, connectionString))
            .WithArgs(args)
            .WithHealthCheck("postgres-accepts-connections")
            .ExcludeFromManifest();
    }

    /// A container runtime is usable only when its engine answers, not when a client binary exists.
    private static bool ContainerRuntimeAnswers()
    {
        foreach (var runtime in new[] { "docker", "podman" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(runtime, "info")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                });
                if (process is null) continue;
                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill(entireProcessTree: true);
                    continue;
                }
                if (process.ExitCode == 0) return true;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }
        return false;
    }

    /// Ready once the server accepts connections and the platform's database exists (created on first start).
    private sealed class DatabaseReadyCheck(LocalPostgres server) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await using var connection = new NpgsqlConnection(server.ConnectionString());
                await connection.OpenAsync(cancellationToken);
                await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @name", connection);
                exists.Parameters.AddWithValue("name", DatabaseName);
                if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                {
                    await using var create = new NpgsqlCommand($"create database {DatabaseName}", connection);
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL does not accept connections yet.", ex);
            }
        }
    }
}

/// A PostgreSQL server run from the machine's own binaries, seen by projects as a connection string.
public sealed class LocalPostgresResource(string name, string command, string workingDirectory, string connectionString)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression { get; } = ReferenceExpression.Create($"{connectionString}");
}
