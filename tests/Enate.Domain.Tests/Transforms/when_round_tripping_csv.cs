using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_round_tripping_csv
{
    [Fact]
    public void quotes_delimiters_and_newlines_survive()
    {
        var rows = new JsonArray(
            new JsonObject { ["id"] = "1", ["name"] = "Acme, Inc.", ["note"] = "said \"hi\"\nthen left" },
            new JsonObject { ["id"] = "2", ["name"] = "Plain", ["note"] = "" });

        var csv = Formats.WriteCsv(rows);
        var back = Formats.ReadCsv(csv);

        Assert.True(JsonNode.DeepEquals(rows, back), csv);
    }

    [Fact]
    public void a_partner_file_is_read_as_objects_of_strings()
    {
        var rows = Formats.ReadCsv("\uFEFFid;name;amount\r\n1;\"Smith; J\";12.50\r\n2;\"multi\r\nline\";3\r\n", ';');

        Assert.Equal(2, rows.Count);
        Assert.Equal("Smith; J", rows[0]!["name"]!.GetValue<string>());
        Assert.Equal("12.50", rows[0]!["amount"]!.GetValue<string>());
        Assert.Equal("multi\r\nline", rows[1]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void columns_are_the_union_of_keys_in_first_seen_order()
    {
        var rows = new JsonArray(
            new JsonObject { ["a"] = "1", ["b"] = 2 },
            new JsonObject { ["c"] = true, ["a"] = "3", ["d"] = new JsonObject { ["x"] = 1 } });

        var csv = Formats.WriteCsv(rows);

        Assert.Equal("a,b,c,d\r\n1,2,,\r\n3,,true,\"{\"\"x\"\":1}\"\r\n", csv);
    }

    [Fact]
    public void a_row_longer_than_the_header_is_an_error_with_its_row()
    {
        var error = Assert.Throws<TransformException>(() => Formats.ReadCsv("a,b\n1,2\n1,2,3\n"));

        Assert.Equal("csv", error.Kind);
        Assert.Equal(3, error.Line);
        Assert.StartsWith("csv file at record 3:", error.Message);
    }

    [Fact]
    public void a_broken_quote_names_the_record_and_field()
    {
        var error = Assert.Throws<TransformException>(() => Formats.ReadCsv("a,b\n1,2\n3,\"x\"y\n"));

        Assert.Equal(3, error.Line);
        Assert.Equal(2, error.Column);
    }

    [Fact]
    public void a_repeated_header_is_an_error()
    {
        var error = Assert.Throws<TransformException>(() => Formats.ReadCsv("a,a\n1,2\n"));

        Assert.Contains("'a'", error.Detail);
    }
}
