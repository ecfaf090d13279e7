using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

/// The parsers and evaluators recurse once per level of nesting, and a stack overflow ends the process, not the
/// request: what nests past the limits is refused with a message; what stays within them parses and runs on an
/// ordinary thread.
public class when_a_template_or_expression_nests_deep
{
    private static string Repeat(string text, int times) => string.Concat(Enumerable.Repeat(text, times));

    [Fact]
    public void a_template_nested_thousands_deep_is_refused_and_the_process_lives()
    {
        Assert.Contains("nest deeper than 64", Templates.Validate(Repeat("{% if true %}", 20_000) + Repeat("{% endif %}", 20_000)));
        Assert.Contains("more than 64 filters", Templates.Validate("{{ 'a' " + Repeat("| append: 'a' ", 30_000) + "}}"));
        Assert.Contains("nest deeper than 64", Templates.Validate("{% liquid\n" + Repeat("if true\n", 5_000) + Repeat("endif\n", 5_000) + "%}"));
        Assert.Contains("nest deeper than 64", Templates.Validate("{{ a" + Repeat("[a", 20_000) + Repeat("]", 20_000) + " }}"));
    }

    [Fact]
    public async Task a_template_at_the_limits_renders_on_an_ordinary_thread()
    {
        var nested = Repeat("{% if true %}", 64) + "x{{ 'a' " + Repeat("| append: 'b' ", 64) + "}}" + Repeat("{% endif %}", 64);
        Assert.Null(Templates.Validate(nested));
        var rendered = await Task.Run(() => Templates.Render(nested, new JsonObject()));
        Assert.Equal("xa" + Repeat("b", 64), rendered);
    }

    [Fact]
    public void an_expression_nested_or_chained_thousands_deep_is_refused_and_the_process_lives()
    {
        Assert.Contains("nest deeper than 64", Expressions.Validate(Repeat("(", 1_000) + "a" + Repeat(")", 1_000)));
        Assert.Contains("longer than 4,096", Expressions.Validate(Repeat("(", 20_000) + "a" + Repeat(")", 20_000)));
        var tooLong = Expressions.Validate("a" + Repeat(".a", 30_000));
        Assert.Contains("longer than 4,096", tooLong);
        // Named by its start, not quoted back whole.
        Assert.True(tooLong!.Length < 400, $"{tooLong.Length} characters");
        Assert.Contains("more than 512 operators", Expressions.Validate("a" + Repeat(".a", 1_000)));
        Assert.Contains("more than 512 operators", Expressions.Validate("a" + Repeat(" || a", 600)));
    }

    [Fact]
    public async Task an_expression_at_the_limits_evaluates_on_an_ordinary_thread()
    {
        var chain = "a" + Repeat(".a", 511);
        var deep = Repeat("(", 64) + "a" + Repeat(")", 64);
        Assert.Null(Expressions.Validate(chain));
        Assert.Null(Expressions.Validate(deep));
        var data = JsonNode.Parse("""{ "a": 1 }""");
        Assert.Null(await Task.Run(() => Expressions.Evaluate(chain, data)));
        Assert.Equal(1, (await Task.Run(() => Expressions.Evaluate(deep, data)))!.GetValue<int>());
    }
}

/// Fluid makes a range's whole list at once, before any loop step counts: a range past `MaxRange` is refused before
/// it is made, whether its bounds are written in the template or come from the run's data.
public class when_a_template_makes_a_range
{
    [Fact]
    public void a_range_within_the_limit_is_made_and_read()
    {
        Assert.Equal("100000", Templates.Render("{% assign x = (1..100000) %}{{ x | size }}", new JsonObject()));
        Assert.Equal("1,2,3,", Templates.Render("{% for i in (1..n) %}{{ i }},{% endfor %}", new JsonObject { ["n"] = 3 }));
        Assert.Equal("0", Templates.Render("{% assign x = (5..1) %}{{ x | size }}", new JsonObject()));
    }

    [Fact]
    public void a_range_past_the_limit_is_refused_before_it_is_made()
    {
        var written = Assert.Throws<TransformException>(() => Templates.Render("{% assign x = (1..99999999) %}{{ x | size }}", new JsonObject()));
        Assert.Contains("99,999,999 numbers", written.Message);
        Assert.Contains(nameof(TransformLimits.MaxRange), written.Message);
        var fromData = Assert.Throws<TransformException>(() =>
            Templates.Render("{% for i in (1..input.n) %}{% endfor %}", new JsonObject { ["input"] = new JsonObject { ["n"] = 1_000_000_000 } }));
        Assert.Contains(nameof(TransformLimits.MaxRange), fromData.Message);
    }
}
