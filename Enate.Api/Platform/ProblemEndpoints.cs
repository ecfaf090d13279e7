using Microsoft.AspNetCore.Mvc;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace Enate.Api.Platform;

/// What a problem's `type` points at: the catalogue of problem kinds, as a page for people and as JSON for tools.
public static class ProblemEndpoints
{
    /// Every kind of problem the API answers: status, title, what it means and what to do. HTML, or JSON when the
    /// client accepts `application/json`.
    [WolverineGet("/problems", OperationId = "ListProblems")]
    [ProducesResponseType<Listing<ProblemKind>>(200)]
    [AllowAnonymous]
    [Tags("Problems")]
    public static IResult List(HttpRequest request) => Answer(request, ProblemCatalogue.All);

    /// One kind of problem, where a problem's `type` leads.
    [WolverineGet("/problems/{kind}", OperationId = "GetProblem")]
    [ProducesResponseType<ProblemKind>(200)]
    [AllowAnonymous]
    [Tags("Problems")]
    public static IResult Get(string kind, HttpRequest request) =>
        ProblemCatalogue.Find(kind) is { } found ? Answer(request, [found]) : Problems.NotFound($"Problem kind '{kind}'");

    private static IResult Answer(HttpRequest request, IReadOnlyList<ProblemKind> kinds) =>
        request.Headers.Accept.ToString().Contains("application/json", StringComparison.OrdinalIgnoreCase)
            ? request.RouteValues.ContainsKey("kind") ? Results.Ok(kinds[0]) : Results.Ok(new Listing<ProblemKind>(kinds))
            : Results.Content(Page(kinds), "text/html; charset=utf-8");

    private static string Page(IReadOnlyList<ProblemKind> kinds)
    {
        var html = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Enate platform: problems</title></head><body>");
        html.Append("<h1>Problems the Enate platform API answers</h1>");
        html.Append("<p>Every error is <code>application/problem+json</code> (RFC 9457); its <code>type</code> is one of these.</p>");
        foreach (var kind in kinds)
        {
            html.Append($"<h2 id=\"{kind.Kind}\">{kind.Status} <code>{kind.Kind}</code></h2>");
            html.Append($"<p><strong>{Encode(kind.Title)}</strong> {Encode(kind.Meaning)}</p><p>What to do: {Encode(kind.Remedy)}</p>");
        }
        return html.Append("</body></html>").ToString();
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
