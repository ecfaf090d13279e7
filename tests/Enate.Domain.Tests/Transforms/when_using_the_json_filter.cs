using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_using_the_json_filter
{
    private static readonly JsonNode Model = JsonNode.Parse("""
        { "steps": { "x": { "body": { "name": "O'Brien & <Sons>", "total": 10.5, "ok": true, "none": null, "lines": [ { "sku": "A" }, 2 ] } } } }
        """)!;

    [Fact]
    public void an_object_is_embedded_as_equivalent_json()
    {
        var text = Templates.Render("{{ steps.x.body | json }}", Model);

        Assert.True(JsonNode.DeepEquals(Model["steps"]!["x"]!["body"], JsonNode.Parse(text)), text);
    }

    [Fact]
    public void strings_come_out_quoted_and_readable()
    {
        Assert.Equal("\"O'Brien & <Sons>\"", Templates.Render("{{ steps.x.body.name | json }}", Model));
    }

    [Fact]
    public void it_keeps_a_json_body_valid_whatever_the_data()
    {
        var body = Templates.RenderJson("""{ "customer": {{ steps.x.body.name | json }}, "order": {{ steps.x.body | json }} }""", Model)!;

        Assert.Equal("O'Brien & <Sons>", body["customer"]!.GetValue<string>());
        Assert.Equal(10.5m, body["order"]!["total"]!.GetValue<decimal>());
    }

    [Fact]
    public void the_jmespath_filter_selects_inside_a_template()
    {
        var text = Templates.Render("""{{ steps.x.body | jmespath: "lines[?sku].sku" | json }}""", Model);

        Assert.Equal("[\"A\"]", text);
    }
}
