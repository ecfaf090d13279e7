using System.Text;
using System.Text.Json;
using Enate.Domain.Runs;

namespace Enate.Domain.Tests.Runs;

/// A run started by an inbound request reads its input from the request's recorded body: the same bytes, parsed the
/// same way as when the request was accepted.
public sealed class when_a_runs_input_is_read_from_its_inbound_record
{
    [Theory]
    [InlineData("""{"data":{"email":"ada@example.com"},"list":[1,2.50,"ü"]}""")]
    [InlineData("{ \"spaced\" : \"\\u00e9\\n\" }")]
    [InlineData("[1,{\"a\":null}]")]
    public void the_recorded_body_parses_to_what_was_accepted(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var accepted = RunInputs.ParseExact(bytes);

        var input = RunInputs.FromBody(Recording.Body(bytes, "application/json"), Guid.NewGuid());

        Assert.NotNull(accepted);
        Assert.True(JsonElement.DeepEquals(accepted.Value, input));
    }

    [Fact]
    public void a_repeated_key_is_not_exact_json()
    {
        Assert.Null(RunInputs.ParseExact("""{"a":1,"a":2}"""u8.ToArray()));
        Assert.NotNull(RunInputs.ParseExact("""{"a":1,"b":{"a":2}}"""u8.ToArray()));
    }

    [Fact]
    public void a_body_kept_as_size_and_hash_only_cannot_be_an_input()
    {
        var large = Recording.Body(Encoding.UTF8.GetBytes("{\"n\":1}"), "application/json", maxBytes: 3);

        var error = Assert.Throws<InvalidOperationException>(() => RunInputs.FromBody(large, Guid.Empty));
        Assert.Contains("holds no JSON body", error.Message);
    }
}
