using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_selecting_with_jmespath
{
    private static readonly JsonNode Data = JsonNode.Parse("""
        {
          "deal": { "name": "Acme", "amount": 12.5, "big": 12345678901234 },
          "lines": [ { "sku": "A", "qty": 2 }, { "sku": "B", "qty": 0 }, { "sku": "C", "qty": 5 } ]
        }
        """)!;

    [Fact]
    public void a_key_given_twice_keeps_its_last_value_as_the_store_does()
    {
        // A body's JSON may repeat a key (an Enate webhook did); jsonb keeps the last, and so does a selection.
        using var body = System.Text.Json.JsonDocument.Parse("""{ "Data": { "Type": "Letter", "Type": "Email" } }""");
        var repeated = Enate.Domain.Platform.JsonText.Node(body.RootElement);
        Assert.Equal("Email", Expressions.Evaluate("Data.Type", repeated)!.GetValue<string>());
        Assert.True(Expressions.Evaluate("Data.Type == 'Email'", repeated)!.GetValue<bool>());
    }

    [Fact]
    public void a_path_selects_a_value()
    {
        Assert.Equal("Acme", Expressions.Evaluate("deal.name", Data)!.GetValue<string>());
        Assert.Equal(12345678901234L, Expressions.Evaluate("deal.big", Data)!.GetValue<long>());
    }

    [Fact]
    public void filters_and_projections_build_new_arrays()
    {
        var skus = Expressions.Evaluate("lines[?qty > `0`].sku", Data);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""["A","C"]"""), skus));
    }

    [Fact]
    public void functions_and_multiselect_hashes_work()
    {
        var summary = Expressions.Evaluate("{ count: length(lines), total: sum(lines[].qty), first: lines[0].sku }", Data);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{ "count": 3, "total": 7, "first": "A" }"""), summary), summary?.ToJsonString());
    }

    [Fact]
    public void a_missing_path_is_null()
    {
        Assert.Null(Expressions.Evaluate("deal.nothing.here", Data));
        Assert.Null(Expressions.Evaluate("deal", null));
    }

    [Fact]
    public void the_root_reference_is_not_shared_between_threads()
    {
        // JmesPath.Net keeps the root inside a parsed tree, so concurrent runs of one cached expression must not see each other's data.
        var lines = string.Join(",", Enumerable.Repeat("""{ "sku": "A" }""", 300));
        var mixedUp = 0;

        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var selected = Expressions.Evaluate("lines[].{ sku: sku, id: $.id }", JsonNode.Parse($$"""{ "id": {{i}}, "lines": [{{lines}}] }"""))!;
            if (selected.AsArray().Any(item => item!["id"]!.GetValue<int>() != i)) Interlocked.Increment(ref mixedUp);
        });

        Assert.Equal(0, mixedUp);
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("null", false)]
    [InlineData("\"\"", false)]
    [InlineData("[]", false)]
    [InlineData("{}", false)]
    [InlineData("true", true)]
    [InlineData("0", true)]
    [InlineData("\"no\"", true)]
    [InlineData("[0]", true)]
    [InlineData("{\"a\":null}", true)]
    public void truthiness_follows_jmespath(string json, bool truthy)
    {
        Assert.Equal(truthy, Expressions.IsTruthy(JsonNode.Parse(json)));
    }

    [Fact]
    public void a_condition_is_an_expression_and_its_truthiness()
    {
        Assert.True(Expressions.IsTruthy(Expressions.Evaluate("deal.amount > `10` && length(lines) == `3`", Data)));
        Assert.False(Expressions.IsTruthy(Expressions.Evaluate("lines[?qty > `100`]", Data)));
    }

    [Fact]
    public void a_valid_expression_validates()
    {
        Assert.Null(Expressions.Validate("lines[?qty > `0`].sku | [0]"));
    }
}
