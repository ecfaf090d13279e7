using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// Users (pattern 2: an onboarded employee becomes an Enate user) and data lists (pattern 2: ERP exception types).
public static class EnateUsers
{
    public sealed record DataListBody(JsonArray? Entries);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/User", (JsonObject body, EnateState state, TimeProvider clock) =>
        {
            var email = body.TryGetPropertyValue("email", out var e) || body.TryGetPropertyValue("Email", out e) ? Text(e) : null;
            if (string.IsNullOrWhiteSpace(email) || !email.Contains('@')) return Problems.BadRequest("email is required.");
            var extra = new JsonObject();
            foreach (var (name, value) in body)
            {
                if (name is not ("email" or "Email" or "firstName" or "FirstName" or "lastName" or "LastName")) extra[Pascal(name)] = value?.DeepClone();
            }
            var user = new EnateUser(Guid.NewGuid(), email.Trim(), Field(body, "firstName"), Field(body, "lastName"), extra, clock.GetUtcNow());
            lock (state.Sync)
            {
                if (state.Users.Values.Any(u => string.Equals(u.Email, user.Email, StringComparison.OrdinalIgnoreCase)))
                {
                    return Problems.Conflict($"A user with email {user.Email} already exists.");
                }
                state.Users[user.GUID] = user;
            }
            return EnatePackets.Ok(user.ToJson(), StatusCodes.Status201Created);
        }).IsSideEffect();

        api.MapGet("/User", (string? email, EnateState state) =>
        {
            lock (state.Sync)
            {
                var users = state.Users.Values
                    .Where(u => email is null || string.Equals(u.Email, email, StringComparison.OrdinalIgnoreCase))
                    .OrderBy(u => u.CreatedOn)
                    .Select(u => (JsonNode)u.ToJson());
                return EnatePackets.Ok(new JsonArray([.. users]));
            }
        });

        api.MapGet("/User/{guid:guid}", (Guid guid, EnateState state) =>
        {
            lock (state.Sync) return state.Users.TryGetValue(guid, out var u) ? EnatePackets.Ok(u.ToJson()) : Problems.NotFound($"No user {guid}.");
        });

        api.MapPut("/DataList/{name}", (string name, DataListBody body, EnateState state, TimeProvider clock) =>
        {
            if (body.Entries is null) return Problems.BadRequest("entries (an array) is required.");
            var list = new DataList(name, (JsonArray)body.Entries.DeepClone(), clock.GetUtcNow());
            lock (state.Sync) state.DataLists[name] = list;
            return EnatePackets.Ok(list.ToJson());
        }).IsSideEffect();

        api.MapGet("/DataList/{name}", (string name, EnateState state) =>
        {
            lock (state.Sync) return state.DataLists.TryGetValue(name, out var l) ? EnatePackets.Ok(l.ToJson()) : Problems.NotFound($"No data list {name}.");
        });
    }

    private static string? Field(JsonObject body, string camel) =>
        body.TryGetPropertyValue(camel, out var value) || body.TryGetPropertyValue(Pascal(camel), out value) ? Text(value) : null;

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Pascal(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];
}
