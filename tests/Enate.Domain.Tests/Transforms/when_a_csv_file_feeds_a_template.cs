using System.Text;
using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_a_csv_file_feeds_a_template
{
    [Fact]
    public void a_thousand_rows_become_the_expected_json_body()
    {
        var csv = new StringBuilder("id,customer,amount,status\r\n");
        for (var i = 1; i <= 1000; i++)
            csv.Append($"{i},\"Customer {i}, \"\"Ltd\"\"\",{i}.25,{(i % 3 == 0 ? "closed" : "open")}\r\n");

        var rows = Formats.ReadCsv(csv.ToString());
        var open = Expressions.Evaluate("[?status == 'open']", rows);
        const string template = """
            { "count": {{ rows.size }}, "items": [
            {% for row in rows %}  { "ref": "INV-{{ row.id }}", "customer": {{ row.customer | json }}, "amount": {{ row.amount }} }{% unless forloop.last %},{% endunless %}
            {% endfor %}] }
            """;
        var body = Templates.RenderJson(template, new JsonObject { ["rows"] = open })!;

        var items = body["items"]!.AsArray();
        Assert.Equal(667, body["count"]!.GetValue<int>());
        Assert.Equal(667, items.Count);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{ "ref": "INV-1", "customer": "Customer 1, \"Ltd\"", "amount": 1.25 }"""), items[0]));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{ "ref": "INV-1000", "customer": "Customer 1000, \"Ltd\"", "amount": 1000.25 }"""), items[^1]));
        Assert.DoesNotContain(items, item => item!["ref"]!.GetValue<string>() == "INV-3");
    }
}
