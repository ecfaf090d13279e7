using Enate.Domain.Audit;
using Enate.Domain.Connections;
using Enate.Domain.Platform;
using JasperFx.CommandLine;
using Marten;

namespace Enate.Api.Tenants;

public sealed class MoveTenantInput : NetCoreInput
{
    [Description("The tenant to move")]
    public string Tenant { get; set; } = "";

    [Description("The database to move it to: a name in Enate:Tenancy:Databases, or 'platform'")]
    public string To { get; set; } = "";
}

/// `dotnet Enate.Api.dll move-tenant {tenant} {database}`: run by the operator with the API's configuration while the
/// API and the Workers are stopped (docs/operations.md, "Moving a tenant").
[Description("Moves a disabled tenant's data to another database, audit chain included", Name = "move-tenant")]
public sealed class MoveTenantCommand : JasperFxAsyncCommand<MoveTenantInput>
{
    public override async Task<bool> Execute(MoveTenantInput input)
    {
        using var host = input.BuildHost();
        var databases = host.Services.GetRequiredService<TenantDatabases>();
        if (databases.All.FirstOrDefault(d => d.Name == input.To) is { } target)
        {
            // The target gets every table the platform keeps, as the API and the Workers would make them at start.
            await host.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await AuditChain.EnsureTableAsync(target.Source, CancellationToken.None);
            await Checkpointing.EnsureTableAsync(target.Source, CancellationToken.None);
            await ConnectionActivity.EnsureTableAsync(target.Source, CancellationToken.None);
        }
        try
        {
            await new TenantMove(databases, Console.Out).MoveAsync(input.Tenant, input.To, CancellationToken.None);
            return true;
        }
        catch (TenantMove.Refused refused)
        {
            await Console.Error.WriteLineAsync($"Not moved: {refused.Message}");
            return false;
        }
    }
}
