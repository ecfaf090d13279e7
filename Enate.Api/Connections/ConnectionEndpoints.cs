using Enate.Domain.Platform;
using Microsoft.AspNetCore.Mvc;
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

/// A connection as clients see it: secrets masked; `lastSuccessAt`, `lastFailureAt` and `lastFailure` say how its calls
/// went lately (written by the Workers every few seconds; null before the first call).
public sealed record ConnectionView(string Name, string Kind, string BaseUrl, ConnectionAuth Auth, int TimeoutSeconds,
    IReadOnlyList<string> CallbackOrigins, DateTimeOffset UpdatedAt, DateTimeOffset? LastSuccessAt = null, DateTimeOffset? LastFailureAt = null,
    string? LastFailure = null)
{
    public static ConnectionView Of(Connection c, ConnectionUse? use = null) => new(c.Id, c.Kind, c.BaseUrl, c.Auth.Masked(), c.TimeoutSeconds,
        c.CallbackOrigins, c.UpdatedAt, use?.LastSuccessAt, use?.LastFailureAt, use?.LastFailure);

    public static async Task<List<ConnectionView>> WithUseAsync(IReadOnlyList<Connection> connections, TenantDatabases databases,
        string tenant, CancellationToken ct)
    {
        var uses = await ConnectionActivity.ReadAsync(databases, tenant, connections.Select(c => c.Id).ToList(), ct);
        return connections.Select(c => Of(c, uses.GetValueOrDefault(c.Id))).ToList();
    }
}

public static class ConnectionEndpoints
{
    /// Creates or replaces a connection. Secrets are encrypted at rest and never returned; sending "***" keeps the stored
    /// one, unless the connection now points elsewhere (base URL, token URL, auth type, header, a new callback origin):
    /// then the secret must be sent again (422), so it never follows a connection to a new place. The answer's ETag
    /// is the connection's; with `If-Match` the write happens only if the connection is still as the client read it
    /// (412 otherwise), with `If-None-Match: *` only if the name is new.
    [WolverinePut("/api/v1/connections/{name}", OperationId = "PutConnection")]
    [ProducesResponseType<ConnectionView>(201)]
    [ProducesResponseType<ConnectionView>(200)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Connections")]
    [Answers("precondition-failed", "concurrent-change")]
    public static async Task<IResult> Put(string name, ConnectionRequest request, HttpContext http, IDocumentSession session,
        ConnectionSecrets secrets, TimeProvider clock, CancellationToken ct)
    {
        var existing = Names.IsValid(name) ? await session.LoadAsync<Connection>(name, ct) : null;
        if (Preconditions.CheckWrite(http.Request, existing?.Revision, $"Connection '{name}'") is { } failed) return failed;
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
            // The revision read: a write by someone else since then makes this one fail instead of undoing theirs.
            Revision = existing?.Revision ?? Guid.Empty,
        };
        if (existing is null) session.Insert(connection);
        else session.Store(connection);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (DatabaseProblems.IsConflict(e))
        {
            return Preconditions.Lost(http.Request, session, $"Connection '{name}'");
        }
        Preconditions.Tag(http.Response, connection.Revision);
        var view = ConnectionView.Of(connection);
        return existing is null ? Results.Created($"/api/v1/connections/{name}", view) : Results.Ok(view);
    }

    /// Connections by name, paged with `limit` and `cursor`; secrets masked.
    [WolverineGet("/api/v1/connections", OperationId = "ListConnections")]
    [ProducesResponseType<Page<ConnectionView>>(200)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Connections")]
    [Answers("invalid-cursor")]
    public static async Task<IResult> List(int? limit, string? cursor, IQuerySession session, TenantDatabases databases, CancellationToken ct)
    {
        if (Paging.Check(limit, cursor, "connection", out var after) is { } problem) return problem;
        var query = session.Query<Connection>().AsQueryable();
        if (after is not null) query = query.Where(c => c.Id.CompareTo(after) > 0);
        var take = limit ?? Paging.DefaultLimit;
        var read = await query.OrderBy(c => c.Id).Take(take + 1).ToListAsync(ct);
        return Results.Ok(Paging.Of(await ConnectionView.WithUseAsync(read, databases, session.TenantId, ct), take, c => c.Name, "connection"));
    }

    /// One connection, secrets masked, with its ETag (`If-None-Match` with it: 304).
    [WolverineGet("/api/v1/connections/{name}", OperationId = "GetConnection")]
    [ProducesResponseType<ConnectionView>(200)]
    [ProducesResponseType(304)]
    [Authorize(Policy = Scopes.RunsRead)]
    [Tags("Connections")]
    public static async Task<IResult> Get(string name, HttpContext http, IQuerySession session, TenantDatabases databases, CancellationToken ct)
    {
        if (await session.LoadAsync<Connection>(name, ct) is not { } c) return Problems.NotFound($"Connection '{name}'");
        Preconditions.Tag(http.Response, c.Revision);
        return Preconditions.NotModified(http.Request, c.Revision)
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Ok((await ConnectionView.WithUseAsync([c], databases, session.TenantId, ct))[0]);
    }

    /// Deletes a connection unless an active recipe still uses it (409); with `If-Match`, only the revision the client read.
    [WolverineDelete("/api/v1/connections/{name}", OperationId = "DeleteConnection")]
    [ProducesResponseType(204)]
    [Authorize(Policy = Scopes.RecipesWrite)]
    [Tags("Connections")]
    [Answers("connection-in-use", "precondition-failed", "concurrent-change")]
    public static async Task<IResult> Delete(string name, HttpContext http, IDocumentSession session, TenantDatabases databases,
        CancellationToken ct)
    {
        if (await session.LoadAsync<Connection>(name, ct) is not { } existing) return Problems.NotFound($"Connection '{name}'");
        if (Preconditions.CheckWrite(http.Request, existing.Revision, $"Connection '{name}'") is { } failed) return failed;
        var users = await session.Query<Recipe>().Where(r => r.Active && r.Connections.Contains(name)).Select(r => r.Id).ToListAsync(ct);
        if (users.Count > 0)
        {
            return Problems.Conflict("connection-in-use", $"Connection '{name}' is used by active recipe(s): {string.Join(", ", users)}.");
        }
        if (!Preconditions.Conditional(http.Request))
        {
            session.Delete<Connection>(name);
            await session.SaveChangesAsync(ct);
            await ConnectionActivity.ForgetAsync(databases, session.TenantId, name, ct);
            return Results.NoContent();
        }
        // Only the revision the precondition was checked against: a write in between leaves the connection in place.
        await using var delete = databases.For(session.TenantId).CreateCommand(
            $"delete from {Enate.Domain.EnateStore.Schema}.mt_doc_connection where tenant_id = @tenant and id = @id and mt_version = @revision");
        delete.Parameters.AddWithValue("tenant", session.TenantId);
        delete.Parameters.AddWithValue("id", name);
        delete.Parameters.AddWithValue("revision", existing.Revision);
        var deleted = await delete.ExecuteNonQueryAsync(ct);
        if (deleted == 1) await ConnectionActivity.ForgetAsync(databases, session.TenantId, name, ct);
        return deleted == 1 ? Results.NoContent() : Preconditions.Lost(http.Request, session, $"Connection '{name}'");
    }
}
