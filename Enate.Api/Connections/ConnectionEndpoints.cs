using Enate.Domain.Security;
using Microsoft.AspNetCore.Authorization;
using Enate.Api.Platform;
using Enate.Domain.Connections;
using Enate.Domain.Recipes;
using Marten;
using Wolverine.Http;

namespace Enate.Api.Connections;

public sealed record ConnectionRequest(string? Kind, string? BaseUrl, ConnectionAuth? Auth, int? TimeoutSeconds,
    IReadOnlyList<string>? CallbackOrigins = null);

public sealed record ConnectionView(string Name, string Kind, string BaseUrl, ConnectionAuth Auth, int TimeoutSeconds,
    IReadOnlyList<string> CallbackOrigins, DateTimeOffset UpdatedAt)
{
    public static ConnectionView Of(Connection c) => new(c.Id, c.Kind, c.BaseUrl, c.Auth.Masked(), c.TimeoutSeconds, c.CallbackOrigins, c.UpdatedAt);
}

public static class ConnectionEndpoints
{
    /// Creates or replaces a connection. Secrets are encrypted at rest and never returned; sending "***" keeps the stored
    /// one, unless the connection now points elsewhere (base URL, token URL, auth type, header, a new callback origin):
    /// then the secret must be sent again (422), so it never follows a connection to a new place.
    [WolverinePut("/api/v1/connections/{name}", OperationId = "PutConnection")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Connections")]
    public static async Task<IResult> Put(string name, ConnectionRequest request, IDocumentSession session,
        ConnectionSecrets secrets, TimeProvider clock, CancellationToken ct)
    {
        var existing = Names.IsValid(name) ? await session.LoadAsync<Connection>(name, ct) : null;
        var errors = ConnectionRules.Check(name, request, existing);
        if (errors.Count > 0) return Problems.Validation(errors);

        var auth = secrets.ProtectIncoming(request.Auth ?? new ConnectionAuth(), existing?.Auth);

        var connection = new Connection
        {
            Id = name,
            Kind = request.Kind!,
            BaseUrl = request.BaseUrl!.TrimEnd('/'),
            Auth = auth,
            TimeoutSeconds = request.TimeoutSeconds ?? 30,
            CallbackOrigins = (request.CallbackOrigins ?? []).Select(o => o.TrimEnd('/')).Distinct().ToList(),
            UpdatedAt = clock.GetUtcNow(),
        };
        session.Store(connection);
        await session.SaveChangesAsync(ct);
        var view = ConnectionView.Of(connection);
        return existing is null ? Results.Created($"/api/v1/connections/{name}", view) : Results.Ok(view);
    }

    [WolverineGet("/api/v1/connections", OperationId = "ListConnections")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Connections")]
    public static async Task<IResult> List(IQuerySession session, CancellationToken ct)
    {
        var all = await session.Query<Connection>().OrderBy(c => c.Id).ToListAsync(ct);
        return Results.Ok(new { items = all.Select(ConnectionView.Of) });
    }

    [WolverineGet("/api/v1/connections/{name}", OperationId = "GetConnection")]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Connections")]
    public static async Task<IResult> Get(string name, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Connection>(name, ct) is { } c ? Results.Ok(ConnectionView.Of(c)) : Problems.NotFound($"Connection '{name}'");

    /// Deletes a connection unless an active recipe still uses it (409).
    [WolverineDelete("/api/v1/connections/{name}", OperationId = "DeleteConnection")]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Connections")]
    public static async Task<IResult> Delete(string name, IDocumentSession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Connection>(name, ct) is null) return Problems.NotFound($"Connection '{name}'");
        var users = await session.Query<Recipe>().Where(r => r.Active && r.Connections.Contains(name)).Select(r => r.Id).ToListAsync(ct);
        if (users.Count > 0)
        {
            return Problems.Conflict("connection-in-use", $"Connection '{name}' is used by active recipe(s): {string.Join(", ", users)}.");
        }
        session.Delete<Connection>(name);
        await session.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
