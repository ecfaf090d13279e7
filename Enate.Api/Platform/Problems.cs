using Microsoft.AspNetCore.Mvc;

namespace Enate.Api.Platform;

/// A problem with one field of a request, located by its JSON path.
public sealed record FieldProblem(string Path, string Message);

/// RFC 9457 answers with a stable type per kind of error, so clients can branch on it. The type is a reference to the
/// API's own catalogue (`/problems/{kind}`, resolved against the API's address), so following it explains the kind.
public static class Problems
{
    public const string TypeBase = "/problems/";

    public static IResult Validation(IReadOnlyList<FieldProblem> errors, string title = "The request is not valid.") =>
        Problem(StatusCodes.Status422UnprocessableEntity, "validation", title,
            $"{errors.Count} problem(s) found.", new() { ["errors"] = errors });

    public static IResult NotFound(string what) =>
        Problem(StatusCodes.Status404NotFound, "not-found", "Not found.", $"{what} does not exist.");

    public static IResult Conflict(string kind, string detail) =>
        Problem(StatusCodes.Status409Conflict, kind, "Conflict.", detail);

    public static IResult BadRequest(string kind, string detail) =>
        Problem(StatusCodes.Status400BadRequest, kind, "Bad request.", detail);

    /// A problem of a kind; its title is the catalogue's for the kind (the same on every occurrence, as RFC 9457 asks).
    public static IResult Problem(int status, string kind, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Results.Problem(new ProblemDetails
        {
            Status = status,
            Type = TypeBase + kind,
            Title = ProblemCatalogue.Find(kind)?.Title ?? title,
            Detail = detail,
            Extensions = extensions ?? [],
        });

    /// Problems the framework answers itself (an unknown route, a route or query value that does not parse, a method the
    /// route does not take) get the catalogue's type for their status, so every problem a client sees is one it can look up.
    public static void Customize(ProblemDetailsContext context)
    {
        var details = context.ProblemDetails;
        if (details.Type?.StartsWith(TypeBase, StringComparison.Ordinal) == true) return;
        var kind = (details.Status ?? context.HttpContext.Response.StatusCode) switch
        {
            400 => "bad-request",
            401 => "unauthenticated",
            403 => "forbidden",
            404 => "not-found",
            405 => "method-not-allowed",
            413 => "payload-too-large",
            414 => "uri-too-long",
            415 => "unsupported-media-type",
            429 => "rate-limited",
            503 => "unavailable",
            >= 500 => "server-error",
            _ => null,
        };
        if (kind is null || ProblemCatalogue.Find(kind) is not { } found) return;
        details.Type = found.Type;
        details.Title = found.Title;
        details.Detail ??= found.Meaning;
    }

    /// The status code a result answers with.
    public static int StatusOf(IResult result) => (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status400BadRequest;

    /// A problem in words, for the record of a refused request: its field problems, or its detail.
    public static string Describe(IResult problem) => problem is IValueHttpResult { Value: ProblemDetails details }
        ? details.Extensions.TryGetValue("errors", out var errors) && errors is IEnumerable<FieldProblem> fields
            ? string.Join(" ", fields.Select(f => $"{f.Path} {f.Message}"))
            : details.Detail ?? details.Title ?? ""
        : "Refused.";
}
