using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Inbound;
using Enate.Domain.Platform;
using Enate.Domain.Runs;

namespace Enate.Domain.Tests.Platform;

/// The event store's serializer keeps every JSON value, even those jsonb cannot hold as they are, and reads records
/// written under an older field name.
public sealed class when_json_is_stored
{
    private static readonly JsonSerializerOptions Options = Stored();

    private static JsonSerializerOptions Stored()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        StoredJson.AddConverters(options);
        return options;
    }

    private sealed record Holder(JsonElement Value, JsonNode? Node, string Text);

    [Theory]
    [InlineData("""{"subject":"a\u0000b"}""")]
    [InlineData("""{"a\u0000":1}""")]
    [InlineData("""["\ud83d\ude00 paired", "\ud800 alone"]""")]
    [InlineData("""{"$json":"looks like the wrapper"}""")]
    [InlineData("""{"plain":[1,2,{"x":null}]}""")]
    public void a_value_comes_back_exactly_and_its_stored_form_holds_no_escape_jsonb_refuses(string json)
    {
        var value = JsonDocument.Parse(json).RootElement;
        // A node cannot even be written with an unpaired surrogate (triggers refuse such bodies); an element can.
        var node = json.Contains("alone") ? null : JsonNode.Parse(json);

        var stored = JsonSerializer.Serialize(new Holder(value, node, "x"), Options);
        var back = JsonSerializer.Deserialize<Holder>(stored, Options)!;

        Assert.Equal(value.GetRawText(), back.Value.GetRawText());
        Assert.Equal(node?.ToJsonString(), back.Node?.ToJsonString());
        Assert.DoesNotContain("\\u0000", stored.Replace("\\\\u0000", ""));
    }

    [Fact]
    public void a_text_with_nul_is_stored_with_a_replacement_character()
    {
        var stored = JsonSerializer.Serialize(new Holder(default, null, "a\0b"), Options);

        Assert.Equal("a\uFFFDb", JsonSerializer.Deserialize<Holder>(stored, Options)!.Text);
    }

    [Fact]
    public void an_inbound_record_written_with_a_channel_reads_as_its_trigger()
    {
        var old = """
            {"id":"0196a1f0-0000-7000-8000-000000000001","channel":"webhook","target":"t","method":"POST","path":"/p","headers":{},
             "body":{"size":0,"sha256":"","truncated":false},"verdict":"accepted","status":202,"runIds":[],"receivedAt":"2026-01-01T00:00:00Z"}
            """;

        var record = JsonSerializer.Deserialize<InboundRequestRecorded>(old, Options)!;

        Assert.Equal("webhook", record.Trigger);
        Assert.DoesNotContain("channel", JsonSerializer.Serialize(record, Options));
    }
}
