using System.Text.Json.Nodes;
using Enate.Console.Components.Fragments;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Enate.Console.Platform;

/// What the pages' buttons do: each form posts here (with its antiforgery token), the API is called with the
/// session's key, and the browser is sent to the page that shows the outcome. Fragments are the parts of pages that
/// refresh themselves (new runs, a bulk re-run's progress, a what-if's comparisons).
public static class Actions
{
    private static async Task<IFormCollection?> FormAsync(HttpContext http)
    {
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(http)) return null;
        return await http.Request.ReadFormAsync();
    }

    private static string Back(string path, Answer answer) =>
        $"{path}{(path.Contains('?') ? '&' : '?')}error={Uri.EscapeDataString(answer.Problem)}";

    /// Only a path on this site: a sign-in link cannot send the user elsewhere.
    private static string Local(string? path) => path is { Length: > 1 } && path[0] == '/' && path[1] != '/' && path[1] != '\\' ? path : "/runs";

    public static void MapActions(this WebApplication app)
    {
        app.MapPost("/session", async (HttpContext http, Sessions sessions, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is not { } form) return Results.BadRequest();
            var key = form["key"].ToString().Trim();
            var answer = key.Length == 0 ? new Answer(401, null) : await api.GetAsync("/api/v1/api-keys/current", ct, key);
            if (!answer.Ok || answer.Body?["tenant"] is null)
                return Results.Redirect($"/sign-in?failed=1&return={Uri.EscapeDataString(Local(form["return"]))}");
            var id = sessions.Start(new Session(key, answer.Body["name"]!.GetValue<string>(), answer.Body["tenant"]!.GetValue<string>(),
                answer.Body["scopes"]!.AsArray().Select(s => s!.GetValue<string>()).ToArray()));
            http.Response.Cookies.Append(Sessions.Cookie, id, new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, IsEssential = true,
            });
            return Results.Redirect(Local(form["return"]));
        });
        app.MapPost("/session/end", async (HttpContext http, Sessions sessions) =>
        {
            if (await FormAsync(http) is null) return Results.BadRequest();
            sessions.End(http.Request.Cookies[Sessions.Cookie]);
            http.Response.Cookies.Delete(Sessions.Cookie);
            return Results.Redirect("/sign-in");
        });

        app.MapPost("/runs/{id:guid}/rerun", async (Guid id, HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is not { } form) return Results.BadRequest();
            var answer = await api.PostAsync($"/api/v1/runs/{id}/replay", new { recipeVersion = form["version"].ToString(), reason = form["reason"].ToString() }, ct);
            return Results.Redirect(answer.Ok ? $"/runs/{answer.Body!["runId"]}" : Back($"/runs/{id}", answer));
        });
        app.MapPost("/failed/rerun", async (HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is not { } form) return Results.BadRequest();
            var reason = form["reason"].ToString();
            var status = form["status"].ToString();
            var recipe = form["recipe"].ToString();
            var back = $"/failed?status={Uri.EscapeDataString(status)}&recipe={Uri.EscapeDataString(recipe)}";
            if (form["all"] == "1")
            {
                var job = await api.PostAsync("/api/v1/replays", new
                {
                    filter = new { recipe = recipe.Length == 0 ? null : recipe, status }, recipeVersion = form["version"].ToString(), reason,
                }, ct);
                return Results.Redirect(job.Ok ? $"/replays/{job.Body!["replayId"]}" : Back(back, job));
            }
            foreach (var run in form["run"])
            {
                var answer = await api.PostAsync($"/api/v1/runs/{run}/replay", new { recipeVersion = form["version"].ToString(), reason }, ct);
                if (!answer.Ok) return Results.Redirect(Back(back, answer));
            }
            return Results.Redirect(back + "&rerun=" + form["run"].Count);
        });
        app.MapPost("/replays/{id:guid}/cancel", async (Guid id, HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is null) return Results.BadRequest();
            var answer = await api.PostAsync($"/api/v1/replays/{id}/cancel", null, ct);
            return Results.Redirect(answer.Ok ? $"/replays/{id}" : Back($"/replays/{id}", answer));
        });
        app.MapPost("/recipes/{key}/{verb:regex(^(activate|deactivate)$)}", async (string key, string verb, HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is null) return Results.BadRequest();
            var answer = await api.PostAsync($"/api/v1/recipes/{Uri.EscapeDataString(key)}/{verb}", null, ct);
            return Results.Redirect(answer.Ok ? $"/recipes/{key}" : Back($"/recipes/{key}", answer));
        });
        app.MapPost("/recipes/{key}/what-if", async (string key, HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is not { } form) return Results.BadRequest();
            var limit = int.TryParse(form["limit"], out var l) ? l : 20;
            var answer = await api.PostAsync($"/api/v1/recipes/{Uri.EscapeDataString(key)}/versions/{form["version"]}/what-if", new { filter = new { limit } }, ct,
                prefer: "respond-async");
            return Results.Redirect(answer.Ok ? $"/what-ifs/{answer.Body!["whatIfId"]}" : Back($"/recipes/{key}", answer));
        });
        app.MapPost("/keys/new", async (HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is not { } form) return Results.BadRequest();
            var answer = await api.PostAsync("/api/v1/api-keys", new { name = form["name"].ToString(), scopes = form["scope"].ToArray() }, ct);
            if (!answer.Ok) return Results.Redirect(Back("/keys", answer));
            // Shown once, on the next page, from the session: the key never travels in a URL.
            api.Session!.Shown = answer.Body!["key"]!.GetValue<string>();
            return Results.Redirect("/keys");
        });
        app.MapPost("/keys/{id:guid}/revoke", async (Guid id, HttpContext http, Api api, CancellationToken ct) =>
        {
            if (await FormAsync(http) is null) return Results.BadRequest();
            var answer = await api.DeleteAsync($"/api/v1/api-keys/{id}", ct);
            return Results.Redirect(answer.Ok ? "/keys" : Back("/keys", answer));
        });

        app.MapGet("/audit/export", async (HttpContext http, Api api, CancellationToken ct) =>
        {
            using var response = await api.StreamAsync("/api/v1/audit/export", ct);
            http.Response.StatusCode = (int)response.StatusCode;
            http.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/x-ndjson";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"audit.ndjson\"";
            await response.Content.CopyToAsync(http.Response.Body, ct);
        });

        app.MapGet("/fragments/runs", async (HttpRequest request, Api api, CancellationToken ct) =>
        {
            var answer = await api.GetAsync("/api/v1/runs" + request.QueryString, ct);
            return new RazorComponentResult<RunRows>(new { Runs = answer.Body?["items"] as JsonArray ?? [] });
        });
        app.MapGet("/fragments/replays/{id:guid}", async (Guid id, Api api, CancellationToken ct) =>
            new RazorComponentResult<ReplayProgress>(new { Job = (await api.GetAsync($"/api/v1/replays/{id}", ct)).Body }));
        app.MapGet("/fragments/what-ifs/{id:guid}", async (Guid id, Api api, CancellationToken ct) =>
            new RazorComponentResult<WhatIfComparisons>(new { Job = (await api.GetAsync($"/api/v1/what-ifs/{id}", ct)).Body }));
    }
}
