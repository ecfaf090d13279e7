using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Enate.Api.Platform;

/// Names the problem kinds an endpoint answers besides those every route of its kind may answer (OpenApiDescription).
[AttributeUsage(AttributeTargets.Method)]
public sealed class AnswersAttribute(params string[] kinds) : Attribute
{
    public IReadOnlyList<string> Kinds { get; } = kinds;
}

/// The OpenAPI document as clients need it: each operation's summary and description from its doc comment, the
/// bearer scheme with the scope each operation needs, and every problem it can answer as `application/problem+json`
/// with the problem types (ProblemCatalogue) it may carry.
public static partial class OpenApiDescription
{
    public const string Scheme = "bearer";
    private const string ProblemSchema = "ProblemDetails";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Enate integration platform";
            document.Info.Description = "Runs integration recipes for Enate and its partners, and keeps every integration event " +
                                        "as a provable record. Errors are RFC 9457 problems; their types are listed at /problems.";
            document.Components ??= new OpenApiComponents();
            document.Components.Schemas?.Remove("IResult");
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key, sent as `Authorization: Bearer <key>`. Each operation names the scope its key needs.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(DescribeAsync);
    }

    private static async Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var description = context.Description;
        var metadata = description.ActionDescriptor.EndpointMetadata;
        var method = (description.ActionDescriptor as ControllerActionDescriptor)?.MethodInfo;

        var text = method is null ? null : Comments.Of(method);
        var anonymous = metadata.OfType<IAllowAnonymous>().Any();
        var scope = anonymous ? null : metadata.OfType<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p is not null);
        if (text is not null)
        {
            operation.Summary = FirstSentence(text);
            operation.Description = anonymous ? text : $"{text}\n\nScope: {(scope is null ? "any valid key" : $"`{scope}`")}.";
        }
        // Every route not open to anyone needs a key (the fallback policy); most need a scope too.
        if (!anonymous)
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, context.Document)] = scope is null ? [] : [scope] }];

        // An endpoint that reads its body itself (a recipe as JSON or YAML, a trigger's JSON as it came) names it with
        // [Consumes]: described here, as nothing else sees it.
        if (operation.RequestBody is null && method?.GetCustomAttribute<ConsumesAttribute>() is IAcceptsMetadata consumes)
        {
            var schema = await SchemaOfAsync(context, consumes.RequestType, ct);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = consumes.ContentTypes.ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
            };
        }

        operation.Responses ??= new OpenApiResponses();
        // An endpoint that returns IResult is described by its [ProducesResponseType] attributes, not as "IResult".
        foreach (var untyped in operation.Responses.Where(r => r.Value.Content?.Values.Any(m => m.Schema is OpenApiSchemaReference { Reference.Id: "IResult" }) == true)
                     .Select(r => r.Key).ToList())
            operation.Responses.Remove(untyped);
        // A streamed answer is declared as 200 with its media type; Wolverine adds a 204 for the method returning no value.
        if (operation.Responses.TryGetValue("200", out var streamed) && streamed.Content?.Count > 0) operation.Responses.Remove("204");
        var path = "/" + (description.RelativePath ?? "");
        var kinds = KindsOf(description.HttpMethod ?? "GET", path, !anonymous, method);
        // Wolverine declares a 404 on every operation; only those with something to find answer it.
        if (!kinds.Contains("not-found")) operation.Responses.Remove("404");

        await EnsureProblemSchemaAsync(context, ct);
        foreach (var group in kinds.Select(k => ProblemCatalogue.Find(k)!).GroupBy(k => k.Status).OrderBy(g => g.Key))
        {
            operation.Responses[group.Key.ToString()] = new OpenApiResponse
            {
                Description = string.Join(" ", group.Select(k => $"`{k.Type}`: {k.Meaning}")),
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, context.Document) },
                },
            };
        }
    }

    /// The problem kinds an operation can answer: those of every API route, of authenticated routes, of routes with a
    /// body or with something to find, and those the endpoint names itself ([Answers]).
    public static SortedSet<string> KindsOf(string httpMethod, string path, bool authenticated, MethodInfo? method)
    {
        var kinds = new SortedSet<string>(StringComparer.Ordinal) { "uri-too-long", "rate-limited", "unavailable" };
        if (!path.StartsWith("/api", StringComparison.Ordinal)) kinds.Remove("rate-limited");
        if (authenticated) kinds.UnionWith(["unauthenticated", "forbidden"]);
        if (httpMethod is "POST" or "PUT" or "PATCH")
        {
            kinds.UnionWith(["malformed-json", "payload-too-large", "unsupported-media-type", "validation", "unstorable-value"]);
            if (!IsTrigger(path)) kinds.Add("nul-character");
        }
        if (path.Contains('{')) kinds.Add("not-found");
        if (method?.GetCustomAttribute<AnswersAttribute>() is { } answers) kinds.UnionWith(answers.Kinds);
        return kinds;
    }

    private static bool IsTrigger(string path) =>
        path.StartsWith("/api/v1/hooks/", StringComparison.Ordinal) || path.StartsWith("/api/v1/enate/actions/", StringComparison.Ordinal) ||
        path.StartsWith("/api/v1/enate/webhooks/", StringComparison.Ordinal) || (path.StartsWith("/api/v1/recipes/", StringComparison.Ordinal) && path.EndsWith("/runs", StringComparison.Ordinal));

    /// A named type as a reference to its schema among the components; any JSON (JsonElement, or no type) as `{}`.
    private static async Task<IOpenApiSchema> SchemaOfAsync(OpenApiOperationTransformerContext context, Type? type, CancellationToken ct)
    {
        if (type is null || type == typeof(System.Text.Json.JsonElement)) return new OpenApiSchema();
        if (context.Document!.Components?.Schemas?.ContainsKey(type.Name) != true)
            context.Document.AddComponent(type.Name, await context.GetOrCreateSchemaAsync(type, null, ct));
        return new OpenApiSchemaReference(type.Name, context.Document);
    }

    private static async Task EnsureProblemSchemaAsync(OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (context.Document!.Components?.Schemas?.ContainsKey(ProblemSchema) == true) return;
        var schema = await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), null, ct);
        context.Document.AddComponent(ProblemSchema, schema);
    }

    /// The first sentence, or when that runs long, what comes before its first colon.
    private static string FirstSentence(string text)
    {
        var match = SentenceEnd().Match(text);
        var sentence = match.Success ? text[..(match.Index + 1)] : text;
        var colon = sentence.IndexOf(": ", StringComparison.Ordinal);
        return sentence.Length > 100 && colon > 20 ? sentence[..colon] + "." : sentence;
    }

    [GeneratedRegex(@"\.(?=\s|$)")]
    private static partial Regex SentenceEnd();

    /// The endpoints' doc comments, read from the XML documentation file built beside the assembly.
    private static class Comments
    {
        private static readonly Lazy<Dictionary<string, string>> Members = new(Load);

        public static string? Of(MethodInfo method)
        {
            var prefix = $"M:{method.DeclaringType!.FullName!.Replace('+', '.')}.{method.Name}";
            return Members.Value.FirstOrDefault(m => m.Key == prefix || m.Key.StartsWith(prefix + "(", StringComparison.Ordinal)).Value;
        }

        private static Dictionary<string, string> Load()
        {
            var file = Path.ChangeExtension(typeof(OpenApiDescription).Assembly.Location, ".xml");
            if (!File.Exists(file)) return [];
            return XDocument.Load(file).Descendants("member")
                .Select(m => (Name: (string?)m.Attribute("name") ?? "", Text: Clean(m.Element("summary") ?? m)))
                .Where(m => m.Text.Length > 0)
                .GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First().Text);
        }

        private static string Clean(XElement element) =>
            string.Join(" ", string.Concat(element.Nodes().Select(n => n is XElement e && e.Name == "c" ? $"`{e.Value}`" : n is XText t ? t.Value : (n as XElement)?.Value ?? ""))
                .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }
}
