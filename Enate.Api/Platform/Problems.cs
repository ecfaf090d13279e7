using Microsoft.AspNetCore.Mvc;

namespace Enate.Api.Platform;

/// A problem with one field of a request, located by its JSON path.
public sealed record FieldProblem(string Path, string Message);

/// RFC 9457 answers with a stable type per kind of error, so clients can branch on it.
public static class Problems
{
    public const string TypeBase = "https://enate.dev/problems/";

    public static IResult Validation(IReadOnlyList<FieldProblem> errors, string title = "The request is not valid.") =>
        Problem(StatusCodes.Status422UnprocessableEntity, "validation", title,
            $"{errors.Count} problem(s) found.", new() { ["errors"] = errors });

    public static IResult NotFound(string what) =>
        Problem(StatusCodes.Status404NotFound, "not-found", "Not found.", $"{what} does not exist.");

    public static IResult Conflict(string kind, string detail) =>
        Problem(StatusCodes.Status409Conflict, kind, "Conflict.", detail);

    public static IResult BadRequest(string kind, string detail) =>
        Problem(StatusCodes.Status400BadRequest, kind, "Bad request.", detail);

    public static IResult Problem(int status, string kind, string title, string detail, Dictionary<string, object?>? extensions = null) =>
        Results.Problem(new ProblemDetails
        {
            Status = status,
            Type = TypeBase + kind,
            Title = title,
            Detail = detail,
            Extensions = extensions ?? [],
        });

    /// The status code a result answers with.
    public static int StatusOf(IResult result) => (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status400BadRequest;

    /// A problem in words, for the record of a refused request: its field problems, or its detail.
    public static string Describe(IResult problem) => problem is IValueHttpResult { Value: ProblemDetails details }
        ? details.Extensions.TryGetValue("errors", out var errors) && errors is IEnumerable<FieldProblem> fields
            ? string.Join(" ", fields.Select(f => $"{f.Path} {f.Message}"))
            : details.Detail ?? details.Title ?? ""
        : "Refused.";
}
