using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_rendering_nested_data_and_loops
{
    private static readonly JsonNode Model = JsonNode.Parse("""
        {
          "input": { "deal": { "name": "Acme renewal", "owner": { "email": "ana@acme.test" } } },
          "steps": { "getDeal": { "body": { "amount": 12.50, "lines": [ { "sku": "A-1", "qty": 2 }, { "sku": "B-7", "qty": 0 } ] } } }
        }
        """)!;

    [Fact]
    public void nested_objects_are_navigable_with_dots()
    {
        var text = Templates.Render("{{ input.deal.name }} for {{ input.deal.owner.email }}: {{ steps.getDeal.body.amount }}", Model);

        // Fluid prints numbers without trailing zeros, as Liquid does.
        Assert.Equal("Acme renewal for ana@acme.test: 12.5", text);
    }

    [Fact]
    public void arrays_are_iterable_with_for()
    {
        var text = Templates.Render(
            "{% for line in steps.getDeal.body.lines %}{{ forloop.index }}:{{ line.sku }}x{{ line.qty }}{% unless forloop.last %},{% endunless %}{% endfor %}",
            Model);

        Assert.Equal("1:A-1x2,2:B-7x0", text);
    }

    [Fact]
    public void conditions_sizes_and_filters_work_on_json_data()
    {
        var text = Templates.Render(
            "{% if steps.getDeal.body.amount > 10 %}big{% endif %} {{ steps.getDeal.body.lines.size }} {{ steps.getDeal.body.lines | map: 'sku' | join: '|' }}",
            Model);

        Assert.Equal("big 2 A-1|B-7", text);
    }

    [Fact]
    public void output_is_not_html_encoded()
    {
        var model = JsonNode.Parse("""{ "input": { "note": "Tom & Jerry <b>\"quoted\"</b> it's" } }""");

        Assert.Equal("Tom & Jerry <b>\"quoted\"</b> it's", Templates.Render("{{ input.note }}", model));
    }

    [Fact]
    public void missing_values_render_empty_as_liquid_does()
    {
        Assert.Equal("[]", Templates.Render("[{{ input.nothing.here }}]", Model));
    }

    [Fact]
    public void the_same_template_renders_the_same_from_many_threads()
    {
        const string template = "{% for line in steps.getDeal.body.lines %}{{ line.sku }}{% endfor %}";

        var results = Enumerable.Range(0, 200).AsParallel().Select(_ => Templates.Render(template, Model)).ToList();

        Assert.All(results, text => Assert.Equal("A-1B-7", text));
    }
}
