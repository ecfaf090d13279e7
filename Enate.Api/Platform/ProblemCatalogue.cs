namespace Enate.Api.Platform;

/// One kind of problem the API answers: its `type` is `/problems/{Kind}`, which the API serves as this entry.
public sealed record ProblemKind(string Kind, int Status, string Title, string Meaning, string Remedy)
{
    public string Type => Problems.TypeBase + Kind;
}

/// Every kind of problem the API answers, for clients that branch on `type` and for people who follow its link.
/// `GET /problems` lists them; `GET /problems/{kind}` answers one. docs/problems.md is the same list.
public static class ProblemCatalogue
{
    public static readonly IReadOnlyList<ProblemKind> All =
    [
        new("bad-request", 400, "Bad request.", "A value in the path or query does not parse (a GUID, a number, a time), or the request itself is malformed.", "Send the value in the form the API reference gives."),
        new("malformed-json", 400, "Bad request.", "The body is not JSON text: malformed, not UTF-8, or an escape of half a surrogate pair.", "Send valid JSON in UTF-8."),
        new("malformed-yaml", 400, "Bad request.", "A recipe sent as YAML does not parse, holds more than one document, or expands to too much (the detail gives the line).", "Fix the YAML at the place named."),
        new("nul-character", 400, "Bad request.", "A recipe, connection or setting holds the character U+0000, which none may contain (trigger inputs may).", "Remove the \\u0000."),
        new("unstorable-value", 400, "Bad request.", "The request holds a value the database cannot store; nothing was recorded.", "Change the value the detail names."),
        new("idempotency-key", 400, "Bad request.", "The Idempotency-Key header is empty or longer than 200 characters.", "Send 1 to 200 characters."),
        new("invalid-cursor", 400, "Bad request.", "The cursor is not one this list issued.", "Use the nextCursor of the previous page of the same list."),
        new("unauthenticated", 401, "Not authenticated.", "No API key, or one that is unknown or revoked.", "Send `Authorization: Bearer <key>` with a valid key."),
        new("bad-signature", 401, "Bad signature.", "A webhook's signature, timestamp or secret header does not verify; the delivery is recorded as refused.", "Sign with the hook's current secret; keep the clock within 5 minutes."),
        new("forbidden", 403, "Forbidden.", "The key lacks the scope this route needs.", "Use a key with the scope the API reference names for the operation."),
        new("tenant-disabled", 403, "Tenant disabled.", "The tenant is disabled: its keys, hooks and subscriptions are refused; its runs and record are kept.", "Ask the platform operator to enable it."),
        new("not-found", 404, "Not found.", "The resource does not exist, or belongs to another tenant.", "Check the id or key."),
        new("method-not-allowed", 405, "Method not allowed.", "The address exists, but not with this HTTP method.", "Use a method the API reference lists for the address."),
        new("tenant-exists", 409, "Conflict.", "A tenant with this id exists.", "Choose another id."),
        new("recipe-inactive", 409, "Conflict.", "The recipe is deactivated, so it starts no runs.", "Activate it (POST /api/v1/recipes/{key}/activate)."),
        new("trigger-mismatch", 409, "Conflict.", "The recipe is triggered another way than the route used.", "Use the route of the recipe's trigger type."),
        new("connection-in-use", 409, "Conflict.", "An active recipe still uses the connection.", "Deactivate or change the recipes the detail names first."),
        new("concurrent-change", 409, "Conflict.", "Another write changed the resource while this one was being written; this one changed nothing.", "Read the resource again and retry."),
        new("run-not-finished", 409, "Conflict.", "The run has not finished, so it cannot be replayed yet.", "Wait for it to finish."),
        new("replay-finished", 409, "Conflict.", "The bulk replay has completed or failed; there is nothing to cancel.", "None needed."),
        new("endpoint-disabled", 409, "Conflict.", "The notification endpoint is disabled (it failed every attempt for too long): nothing is sent to it.", "Fix the receiver, then POST .../enable and resend."),
        new("rebuild-running", 409, "Conflict.", "A rebuild of the tenant's read models is running already.", "Wait for it to end (GET its status)."),
        new("checkpoints-off", 409, "Conflict.", "No audit signing key or witness is configured, so no checkpoint can be signed.", "Configure Enate:Audit (docs/configuration.md)."),
        new("nothing-chained", 409, "Conflict.", "The tenant's audit chain holds no event yet: there is no head to sign.", "Retry once the tenant has recorded events."),
        new("precondition-failed", 412, "Precondition failed.", "If-Match or If-None-Match did not hold: the resource changed since it was read, or exists when it should not.", "Read it again (its ETag) and retry."),
        new("payload-too-large", 413, "Payload too large.", "The body is larger than the route accepts (Enate:Limits:MaxBodyBytes, MaxFileBodyBytes).", "Send a smaller body."),
        new("uri-too-long", 414, "URI too long.", "The path and query are longer than the API reads.", "Shorten the query; page instead of filtering by long lists."),
        new("unsupported-media-type", 415, "Unsupported media type.", "The body is not sent as application/json.", "Send `Content-Type: application/json`."),
        new("validation", 422, "The request is not valid.", "The body is JSON but breaks the rules; `errors` lists each problem with its JSON path.", "Fix each field named."),
        new("idempotency-conflict", 422, "Idempotency-Key reused.", "The Idempotency-Key was used with another body within its window (docs/http.md).", "Use a new key for a new request."),
        new("rate-limited", 429, "Too many requests.", "The client is over a rate limit.", "Retry after the seconds in Retry-After."),
        new("server-error", 500, "Server error.", "The platform failed on its side; the request may or may not have been recorded. It is a defect: tests hold that no client input causes it.", "Retry with the same Idempotency-Key, and report it with the response's traceId."),
        new("enate-unavailable", 502, "Bad gateway.", "Enate did not accept the webhook subscription.", "Check the Enate connection, then retry."),
        new("unavailable", 503, "Service unavailable.", "The platform's database did not answer; nothing was recorded.", "Retry after the seconds in Retry-After."),
    ];

    public static ProblemKind? Find(string kind) => All.FirstOrDefault(p => p.Kind == kind);
}
