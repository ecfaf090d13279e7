using Microsoft.Net.Http.Headers;

namespace Enate.Api.Platform;

/// ETags and conditional requests (RFC 9110) for documents a client reads, edits and writes back whole: recipes and
/// connections. The tag is the document's revision, which every write changes. `If-Match` on a write answers 412 when
/// the document changed since the client read it; `If-None-Match: *` creates only; `If-None-Match` on a read answers 304.
public static class Preconditions
{
    public static string TagOf(Guid revision) => $"\"{revision:N}\"";

    public static void Tag(HttpResponse response, Guid revision) => response.Headers.ETag = TagOf(revision);

    /// Whether the request makes its write conditional on what it read.
    public static bool Conditional(HttpRequest request) =>
        request.Headers.IfMatch.Count > 0 || request.Headers.IfNoneMatch.Count > 0;

    /// For a write: a 412 problem when If-Match or If-None-Match does not hold for the current document (its revision,
    /// or null when there is none); null when the write may go ahead.
    public static IResult? CheckWrite(HttpRequest request, Guid? current, string what)
    {
        if (request.Headers.IfMatch.Count > 0 && !Matches(request.Headers.IfMatch.ToString(), current))
            return Failed(current is null
                ? $"{what} does not exist; If-Match needs a current one."
                : $"{what} has changed since the tag in If-Match was read; read it again (ETag {TagOf(current.Value)}).");
        if (request.Headers.IfNoneMatch.Count > 0 && Matches(request.Headers.IfNoneMatch.ToString(), current, strong: false))
            return Failed($"{what} already exists, and If-None-Match asked for it not to.");
        return null;
    }

    /// For a read: whether the client's copy (If-None-Match) is current, so 304 answers.
    public static bool NotModified(HttpRequest request, Guid current) =>
        request.Headers.IfNoneMatch.Count > 0 && Matches(request.Headers.IfNoneMatch.ToString(), current, strong: false);

    /// A write that lost a race to another one after its precondition held. Nothing of it is written: what it left in
    /// the session is dropped, or the commit Wolverine makes after the endpoint would fail on it again.
    public static IResult Lost(HttpRequest request, Marten.IDocumentSession session, string what)
    {
        session.EjectAllPendingChanges();
        return request.Headers.IfMatch.Count > 0
            ? Failed($"{what} changed while this request was written; read it again.")
            : Problems.Conflict("concurrent-change", $"{what} changed while this request was written; read it again and retry.");
    }

    private static IResult Failed(string detail) =>
        Problems.Problem(StatusCodes.Status412PreconditionFailed, "precondition-failed", "Precondition failed.", detail);

    /// `*` matches any current document; a list of tags matches by strong comparison for If-Match (a weak tag never
    /// matches) and by weak comparison for If-None-Match.
    private static bool Matches(string header, Guid? current, bool strong = true)
    {
        if (current is null) return false;
        if (header.Trim() == "*") return true;
        if (!EntityTagHeaderValue.TryParseList([header], out var tags)) return false;
        var tag = TagOf(current.Value);
        return tags.Any(t => (!strong || !t.IsWeak) && t.Tag == tag);
    }
}
