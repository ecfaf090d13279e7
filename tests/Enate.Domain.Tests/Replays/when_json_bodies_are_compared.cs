using System.Text.Json.Nodes;
using Enate.Domain.Replays;

namespace Enate.Domain.Tests.Replays;

public sealed class when_json_bodies_are_compared
{
    private static List<(string Path, string Op)> Diff(string before, string after) =>
        JsonDiff.CompareBodies(before, after).Select(c => (c.Path, c.Op)).ToList();

    [Fact]
    public void members_are_compared_by_name_not_by_order_and_numbers_by_value() =>
        Assert.Empty(Diff("{\"a\":1,\"b\":{\"c\":[1,2]}}", "{\"b\":{\"c\":[1.0,2]},\"a\":1.00}"));

    [Fact]
    public void each_difference_is_located_by_a_json_pointer()
    {
        var diff = Diff(
            "{\"name\":\"Acme\",\"gone\":true,\"lines\":[{\"qty\":1},{\"qty\":2}],\"a/b\":1,\"t~\":1}",
            "{\"name\":\"ACME\",\"lines\":[{\"qty\":1},{\"qty\":3},{\"qty\":4}],\"extra\":null,\"a/b\":2,\"t~\":2}");
        Assert.Equal(
            [("/name", "changed"), ("/gone", "removed"), ("/lines/1/qty", "changed"), ("/lines/2", "added"), ("/a~1b", "changed"),
             ("/t~0", "changed"), ("/extra", "added")],
            diff);
    }

    [Fact]
    public void a_change_of_type_is_one_change_with_both_values()
    {
        var change = Assert.Single(JsonDiff.CompareBodies("{\"x\":{\"y\":1}}", "{\"x\":[1]}"));
        Assert.Equal("/x", change.Path);
        Assert.Equal("{\"y\":1}", change.Before!.ToJsonString());
        Assert.Equal("[1]", change.After!.ToJsonString());
    }

    [Fact]
    public void bodies_that_are_not_json_are_compared_as_text()
    {
        Assert.Empty(JsonDiff.CompareBodies("a,b\n1,2", "a,b\n1,2"));
        var change = Assert.Single(JsonDiff.CompareBodies("a,b\n1,2", "a,b\n1,3"));
        Assert.Equal(("", "changed"), (change.Path, change.Op));
        var added = Assert.Single(JsonDiff.CompareBodies(null, "{}"));
        Assert.Equal(("", "added"), (added.Path, added.Op));
    }

    [Fact]
    public void the_number_of_changes_reported_is_bounded()
    {
        var before = new JsonArray(Enumerable.Range(0, 500).Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
        var after = new JsonArray(Enumerable.Range(0, 500).Select(i => (JsonNode?)JsonValue.Create(i + 1)).ToArray());
        Assert.Equal(200, JsonDiff.Compare(before, after).Count);
    }
}
