using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_a_template_or_expression_is_wrong
{
    [Fact]
    public void a_jmespath_syntax_error_names_the_expression_and_position()
    {
        var error = Assert.Throws<TransformException>(() => Expressions.Evaluate("foo[", JsonNode.Parse("{}")));

        Assert.Equal("jmespath", error.Kind);
        Assert.Equal("foo[", error.Expression);
        Assert.Equal(4, error.Column);
        Assert.StartsWith("jmespath expression 'foo[' at position 4:", error.Message);
    }

    [Fact]
    public void jmespath_validation_returns_the_same_message()
    {
        var message = Expressions.Validate("lines[?qty > `1`");

        Assert.NotNull(message);
        Assert.StartsWith("jmespath expression 'lines[?qty > `1`' at position 16:", message);
    }

    [Fact]
    public void an_unknown_jmespath_function_is_named()
    {
        var error = Assert.Throws<TransformException>(() => Expressions.Evaluate("nosuch(@)", null));

        Assert.Contains("nosuch", error.Message);
        Assert.StartsWith("jmespath expression 'nosuch(@)'", error.Message);
    }

    [Fact]
    public void a_jmespath_type_error_at_run_time_names_the_expression()
    {
        var error = Assert.Throws<TransformException>(() => Expressions.Evaluate("abs(name)", JsonNode.Parse("""{ "name": "x" }""")));

        Assert.Equal("jmespath", error.Kind);
        Assert.Contains("abs(name)", error.Message);
        Assert.Contains("number", error.Detail);
    }

    [Fact]
    public void a_liquid_syntax_error_names_line_and_column()
    {
        const string template = "{\n  \"a\": {{ input.x | }}\n}";

        var error = Assert.Throws<TransformException>(() => Templates.Render(template, null));

        Assert.Equal("liquid", error.Kind);
        Assert.Equal(template, error.Expression);
        Assert.Equal(2, error.Line);
        Assert.NotNull(error.Column);
        Assert.StartsWith($"liquid template at line 2, column {error.Column}:", error.Message);
        Assert.Contains("input.x", error.Message);
    }

    [Fact]
    public void an_unclosed_liquid_block_is_reported()
    {
        var message = Templates.Validate("line one\n{% for x in items %}{{ x }}");

        Assert.NotNull(message);
        Assert.StartsWith("liquid template at line", message);
    }

    [Fact]
    public void a_valid_template_validates()
    {
        Assert.Null(Templates.Validate("{% for x in items %}{{ x | upcase }}{% endfor %}"));
    }
}
