using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_rendering_a_json_body
{
    [Fact]
    public void the_output_is_parsed_into_json()
    {
        var model = JsonNode.Parse("""{ "input": { "deal": { "id": 42, "name": "Acme \"Gold\"" } } }""");
        const string template = """
            {
              "dealId": {{ input.deal.id }},
              "title": {{ input.deal.name | json }},
              "tags": [{% for t in (1..3) %}"t{{ t }}"{% unless forloop.last %},{% endunless %}{% endfor %}]
            }
            """;

        var body = Templates.RenderJson(template, model)!;

        Assert.Equal(42, body["dealId"]!.GetValue<int>());
        Assert.Equal("Acme \"Gold\"", body["title"]!.GetValue<string>());
        Assert.Equal(["t1", "t2", "t3"], body["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public void output_that_is_not_json_fails_with_its_line_and_column()
    {
        var model = JsonNode.Parse("""{ "input": { "name": "Acme" } }""");

        var error = Assert.Throws<TransformException>(() => Templates.RenderJson("{\n  \"name\": {{ input.name }}\n}", model));

        Assert.Equal("json", error.Kind);
        Assert.Equal(2, error.Line);
        Assert.Equal(11, error.Column);
        Assert.StartsWith("json output at line 2, column 11:", error.Message);
        Assert.Contains("Acme", error.Expression);
    }
}
