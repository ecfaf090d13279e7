using System.Text.Json.Nodes;
using Enate.Domain.Transforms;

namespace Enate.Domain.Tests.Transforms;

public class when_round_tripping_xlsx
{
    [Fact]
    public void rows_come_back_with_their_values()
    {
        var rows = new JsonArray(
            new JsonObject { ["id"] = 1, ["name"] = "Acme, \"Inc.\"", ["amount"] = 12.5, ["active"] = true },
            new JsonObject { ["id"] = 2, ["name"] = "Line one\nline two", ["amount"] = 0, ["active"] = false, ["code"] = "007" });

        var back = Formats.ReadXlsx(Formats.WriteXlsx(rows, "Deals"));

        Assert.Equal(2, back.Count);
        Assert.Equal(1, back[0]!["id"]!.GetValue<double>());
        Assert.Equal("Acme, \"Inc.\"", back[0]!["name"]!.GetValue<string>());
        Assert.Equal(12.5, back[0]!["amount"]!.GetValue<double>());
        Assert.True(back[0]!["active"]!.GetValue<bool>());
        Assert.Null(back[0]!["code"]);
        Assert.Equal("Line one\nline two", back[1]!["name"]!.GetValue<string>());
        Assert.Equal("007", back[1]!["code"]!.GetValue<string>());
    }

    [Fact]
    public void a_named_sheet_is_read_and_a_missing_one_is_an_error()
    {
        var workbook = Formats.WriteXlsx(new JsonArray(new JsonObject { ["a"] = "x" }), "Orders");

        Assert.Equal("x", Formats.ReadXlsx(workbook, "Orders")[0]!["a"]!.GetValue<string>());
        var error = Assert.Throws<TransformException>(() => Formats.ReadXlsx(workbook, "Nope"));
        Assert.Equal("xlsx", error.Kind);
        Assert.Contains("Nope", error.Message);
    }

    [Fact]
    public void bytes_that_are_not_a_workbook_are_an_xlsx_error()
    {
        var error = Assert.Throws<TransformException>(() => Formats.ReadXlsx("not a workbook"u8.ToArray()));

        Assert.Equal("xlsx", error.Kind);
    }
}
