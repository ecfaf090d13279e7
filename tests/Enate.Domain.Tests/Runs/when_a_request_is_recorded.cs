using Enate.Domain.Runs;

namespace Enate.Domain.Tests.Runs;

public sealed class when_a_request_is_recorded
{
    [Theory]
    [InlineData("Authorization")]
    [InlineData("proxy-authorization")]
    [InlineData("Cookie")]
    [InlineData("X-Api-Key")]
    [InlineData("x-client-secret")]
    [InlineData("X-Auth-Token")]
    [InlineData("webhook-signature")]
    public void credential_headers_are_redacted(string name)
    {
        var recorded = Recording.Headers([KeyValuePair.Create(name, "s3cr3t")]);
        Assert.Equal(Recording.Redacted, recorded[name]);
    }

    [Theory]
    [InlineData("Idempotency-Key")]
    [InlineData("Content-Type")]
    [InlineData("Accept")]
    public void ordinary_headers_are_kept(string name) =>
        Assert.Equal("value", Recording.Headers([KeyValuePair.Create(name, "value")])[name]);

    [Fact]
    public void a_connection_s_own_key_header_is_redacted_whatever_its_name() =>
        Assert.Equal(Recording.Redacted, Recording.Headers([KeyValuePair.Create("X-Partner", "k")], "x-partner")["X-Partner"]);

    [Fact]
    public void a_large_body_keeps_only_its_size_and_hash()
    {
        var big = new string('a', 100);
        var body = Recording.Body(big, "text/plain", maxBytes: 10);
        Assert.Null(body.Text);
        Assert.True(body.Truncated);
        Assert.Equal(100, body.Size);
        Assert.Equal(64, body.Sha256.Length);

        var small = Recording.Body("{}", "application/json", maxBytes: 10);
        Assert.Equal("{}", small.Text);
        Assert.Equal(body.Sha256.Length, small.Sha256.Length);
    }
}
