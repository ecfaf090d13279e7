using Enate.Domain.Runs;
using Marten.Events.Aggregation;

namespace Enate.Domain.Inbound;

public static class Verdicts
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}

public static class Channels
{
    public const string Api = "api";
    public const string EnateAction = "enateAction";
    public const string EnateWebhook = "enateWebhook";
    public const string Webhook = "webhook";
}

/// A request reached a trigger: what came (credentials redacted, body whole when small, always its SHA-256),
/// what the platform answered, and the runs it started. Rejected requests are recorded as well.
public sealed record InboundRequestRecorded(
    Guid Id,
    string Channel,
    string Target,
    string Method,
    string Path,
    Dictionary<string, string> Headers,
    RecordedBody Body,
    string Verdict,
    int Status,
    string? Reason,
    Guid[] RunIds,
    DateTimeOffset ReceivedAt);

/// The read model of one inbound request (its stream has exactly one event).
public sealed class InboundRequest
{
    public Guid Id { get; set; }
    public string Channel { get; set; } = "";
    public string Target { get; set; } = "";
    public string Method { get; set; } = "";
    public string Path { get; set; } = "";
    public Dictionary<string, string> Headers { get; set; } = [];
    public RecordedBody Body { get; set; } = null!;
    public string Verdict { get; set; } = "";
    public int Status { get; set; }
    public string? Reason { get; set; }
    public Guid[] RunIds { get; set; } = [];
    public DateTimeOffset ReceivedAt { get; set; }
}

public sealed class InboundRequestProjection : SingleStreamProjection<InboundRequest, Guid>
{
    public static InboundRequest Create(InboundRequestRecorded e) => new()
    {
        Id = e.Id, Channel = e.Channel, Target = e.Target, Method = e.Method, Path = e.Path, Headers = e.Headers,
        Body = e.Body, Verdict = e.Verdict, Status = e.Status, Reason = e.Reason, RunIds = e.RunIds, ReceivedAt = e.ReceivedAt,
    };
}

/// Which runs a delivery started, by the delivery's identity (webhook-id, Enate's derived key, the action's
/// callback URL), so a repeated delivery starts nothing and gets the same answer.
public sealed class DeliverySeen
{
    public string Id { get; set; } = "";
    public Guid[] RunIds { get; set; } = [];
    public Guid InboundId { get; set; }
    public DateTimeOffset SeenAt { get; set; }
}
