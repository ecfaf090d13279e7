using System.Text.Json.Serialization;
using Enate.Domain.Runs;
using Marten.Events.Aggregation;

namespace Enate.Domain.Inbound;

public static class Verdicts
{
    public const string Accepted = "accepted";
    public const string Duplicate = "duplicate";
    public const string Rejected = "rejected";
}

/// A request reached a trigger: what came (credentials redacted, body whole when small, always its SHA-256),
/// what the platform answered, and the runs it started. Rejected requests are recorded as well. DeliveryKey is the
/// delivery's identity (webhook-id, Enate's derived key, the action's callback URL) where the trigger has one.
public sealed record InboundRequestRecorded(
    Guid Id,
    string Trigger,
    string Target,
    string Method,
    string Path,
    Dictionary<string, string> Headers,
    RecordedBody Body,
    string Verdict,
    int Status,
    string? Reason,
    Guid[] RunIds,
    DateTimeOffset ReceivedAt,
    string? DeliveryKey = null)
{
    /// Records written before this field was named `trigger` call it `channel`; they are read all the same.
    [JsonInclude, JsonPropertyName("channel"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private string? Channel
    {
        get => null;
        init
        {
            if (value is not null) Trigger = value;
        }
    }
}

/// The read model of one inbound request (its stream has exactly one event). It keeps what lists and filters need;
/// the request's headers and the body's text stay in the event alone (`Headers` is empty and `Body.Text` null in the
/// stored document) and are filled in from it when a request is read (`WithContent`). Every webhook would otherwise
/// write them twice: the event and this document were the two largest rows a webhook writes.
public sealed class InboundRequest
{
    public Guid Id { get; set; }
    public string Trigger { get; set; } = "";
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
    /// Set on the accepted record of a delivery only: unique per tenant, so a repeat of the delivery (or the same
    /// delivery arriving twice at once) fails to commit and starts nothing (EnateStore).
    public string? DeliveryKey { get; set; }
}

public sealed class InboundRequestProjection : SingleStreamProjection<InboundRequest, Guid>
{
    public static InboundRequest Create(InboundRequestRecorded e) => new()
    {
        Id = e.Id, Trigger = e.Trigger, Target = e.Target, Method = e.Method, Path = e.Path, Headers = [],
        Body = e.Body with { Text = null }, Verdict = e.Verdict, Status = e.Status, Reason = e.Reason, RunIds = e.RunIds,
        ReceivedAt = e.ReceivedAt, DeliveryKey = e.Verdict == Verdicts.Accepted ? e.DeliveryKey : null,
    };

    /// The read model with the headers and the body's text of its event, as the API shows it.
    public static InboundRequest WithContent(InboundRequest request, InboundRequestRecorded recorded)
    {
        request.Headers = recorded.Headers;
        request.Body = recorded.Body;
        return request;
    }

}

/// The delivery mark: the accepted inbound record's delivery key, unique per tenant.
public static class Deliveries
{
    public const string KeyIndex = "mt_doc_inboundrequest_uidx_delivery_key";

    /// Whether a commit failed because the delivery's accepted record already exists.
    public static bool IsRepeat(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation, ConstraintName: KeyIndex })
                return true;
        return false;
    }
}
