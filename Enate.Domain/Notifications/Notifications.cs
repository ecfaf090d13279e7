using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Marten.Events.Aggregation;

namespace Enate.Domain.Notifications;

/// What a tenant can be told about.
public static class NotificationTypes
{
    public const string RunFailed = "run.failed";
    public const string RunDeadLettered = "run.deadLettered";
    public const string RerunCompleted = "rerun.completed";
    public const string AuditMismatch = "audit.mismatch";
    public const string EndpointDisabled = "endpoint.disabled";
    public const string QueueStalled = "queue.stalled";
    public static readonly string[] All = [RunFailed, RunDeadLettered, RerunCompleted, AuditMismatch, EndpointDisabled, QueueStalled];
}

/// Something happened that a tenant's endpoints may want to hear of. Its id is the Standard Webhooks `webhook-id`
/// of every delivery of it: the same happening told twice has the same id, and its deliveries are not repeated.
public sealed record Notify(string Id, string Type, DateTimeOffset At, JsonElement Data, string TenantId)
{
    /// An id derived from what happened (a run's failure, a job's completion), so whoever notices it twice makes one.
    public static string IdFor(string type, string subject) =>
        "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{type}\n{subject}")))[..26];
}

/// Send (or send again) one delivery to its endpoint. `Attempts` and `Round` are the delivery's when the message was
/// sent: a message whose numbers differ from the delivery's was overtaken (by a resend, or by a later attempt's own
/// message) and does nothing. Which message is current is told by the delivery's record, not by comparing clocks.
public sealed record DeliverNotification(Guid DeliveryId, string TenantId, int? Attempts = null, int? Round = null)
{
    /// Whether this message is the one that makes the delivery's next attempt. A message sent without the numbers goes
    /// by the attempt's time.
    public bool IsCurrent(NotificationDelivery delivery, DateTimeOffset now) => Attempts is { } attempts
        ? attempts == delivery.Attempts.Count && Round == delivery.Round
        : delivery.NextAttemptAt is not { } due || due <= now + TimeSpan.FromSeconds(1);
}

/// A tenant's receiver of notifications (document id = the endpoint id). The signing secret is kept encrypted and
/// shown once, when the endpoint is made or its secret rotated.
public sealed class NotificationEndpoint
{
    public Guid Id { get; set; }
    public string Url { get; set; } = "";
    public List<string> Types { get; set; } = [];
    public string? Description { get; set; }
    public string SecretProtected { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    /// Since when every attempt to it has failed; null after a success.
    public DateTimeOffset? FailingSince { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    public string? DisabledReason { get; set; }
}

// A delivery's stream: one per notification and endpoint, so a repeat of the notification finds it already there.
// The endpoint is named by its id only: many receivers carry a token in their URL, so the URL stays on the endpoint.
public sealed record NotificationQueued(Guid DeliveryId, Guid EndpointId, string NotificationId, string Type, string Payload,
    DateTimeOffset QueuedAt);

/// One attempt: the endpoint's status (null when no answer came) and what went wrong, if anything.
public sealed record NotificationAttempted(Guid DeliveryId, int Attempt, int? Status, string? Error, double Milliseconds,
    DateTimeOffset At, DateTimeOffset? NextAttemptAt);

public sealed record NotificationDelivered(Guid DeliveryId, DateTimeOffset At);

/// No more attempts: the schedule ran out, or the endpoint was disabled or removed.
public sealed record NotificationAbandoned(Guid DeliveryId, string Reason, DateTimeOffset At);

/// Someone asked for it to be sent again: it gets the whole schedule again.
public sealed record NotificationResent(Guid DeliveryId, string RequestedBy, DateTimeOffset At);

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public static readonly string[] All = [Pending, Delivered, Failed];
}

public sealed record DeliveryAttempt(int Attempt, int? Status, string? Error, double Milliseconds, DateTimeOffset At);

/// The read model of one delivery, built inline from its stream.
public sealed class NotificationDelivery
{
    public Guid Id { get; set; }
    public Guid EndpointId { get; set; }
    public string NotificationId { get; set; } = "";
    public string Type { get; set; } = "";
    public string Payload { get; set; } = "";
    public string Status { get; set; } = DeliveryStatus.Pending;
    public List<DeliveryAttempt> Attempts { get; set; } = [];
    /// Attempts made since it was queued or last resent: where it is in the retry schedule.
    public int Round { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset QueuedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

public sealed class NotificationDeliveryProjection : SingleStreamProjection<NotificationDelivery, Guid>
{
    public static NotificationDelivery Create(NotificationQueued e) => new()
    {
        Id = e.DeliveryId, EndpointId = e.EndpointId, NotificationId = e.NotificationId, Type = e.Type, Payload = e.Payload,
        QueuedAt = e.QueuedAt, NextAttemptAt = e.QueuedAt,
    };

    public static void Apply(NotificationAttempted e, NotificationDelivery d)
    {
        d.Attempts.Add(new DeliveryAttempt(e.Attempt, e.Status, e.Error, e.Milliseconds, e.At));
        d.Round++;
        d.NextAttemptAt = e.NextAttemptAt;
    }

    public static void Apply(NotificationDelivered e, NotificationDelivery d)
    {
        (d.Status, d.FinishedAt, d.NextAttemptAt, d.Reason) = (DeliveryStatus.Delivered, e.At, null, null);
    }

    public static void Apply(NotificationAbandoned e, NotificationDelivery d)
    {
        (d.Status, d.FinishedAt, d.NextAttemptAt, d.Reason) = (DeliveryStatus.Failed, e.At, null, e.Reason);
    }

    public static void Apply(NotificationResent e, NotificationDelivery d)
    {
        (d.Status, d.FinishedAt, d.NextAttemptAt, d.Reason, d.Round) = (DeliveryStatus.Pending, null, e.At, null, 0);
    }
}

/// How notifications are made, signed and retried.
public static class Notification
{
    /// The Data Protection purpose of endpoints' signing secrets.
    public const string SecretPurpose = "Enate.Notifications.Secrets.v1";

    /// The Svix schedule: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (eight attempts, about 28 h).
    public static readonly TimeSpan[] Schedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// An endpoint that has failed every attempt for this long is disabled (default of `Enate:Notifications:DisableAfter`).
    public static readonly TimeSpan DefaultDisableAfter = TimeSpan.FromDays(5);

    /// How long an endpoint has to answer one attempt.
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// One delivery per notification and endpoint.
    public static Guid DeliveryIdOf(string notificationId, Guid endpointId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{notificationId}\n{endpointId:N}"));
        // Shaped as a version 8 (custom) UUID.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    /// A new signing secret as Standard Webhooks writes it: `whsec_` and 32 random bytes in base64.
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// The `webhook-signature` of a message: `v1,` and base64 of HMAC-SHA256 over `id.timestamp.body` with the
    /// secret's bytes (the part after `whsec_`, base64-decoded).
    public static string Sign(string secret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(mac);
    }

    /// The body sent: `{"type", "timestamp", "data"}`, as Standard Webhooks suggests.
    public static string Payload(Notify notification) => JsonSerializer.Serialize(new
    {
        type = notification.Type,
        timestamp = notification.At.UtcDateTime,
        data = notification.Data,
    });
}

/// The notifications the platform's own happenings make.
public static class Notices
{
    /// A run's end that a tenant may want to hear of (failed, dead-lettered), or null.
    public static Notify? OfRun(Runs.Run run, object happened, string tenant) => happened switch
    {
        Runs.RunFailed e => Of(NotificationTypes.RunFailed, run, e.StepId, e.Reason, e.FailedAt, tenant),
        Runs.RunDeadLettered e => Of(NotificationTypes.RunDeadLettered, run, e.StepId, e.Reason, e.DeadLetteredAt, tenant),
        _ => null,
    };

    private static Notify Of(string type, Runs.Run run, string? step, string reason, DateTimeOffset at, string tenant) =>
        new(Notify.IdFor(type, run.Id.ToString()), type, at, JsonSerializer.SerializeToElement(new
        {
            runId = run.Id, recipe = run.RecipeKey, version = run.RecipeVersion, trigger = run.Trigger, step, reason,
            url = $"/api/v1/runs/{run.Id}",
        }), tenant);

    /// A bulk re-run finished: how many of its runs ended how.
    public static Notify OfRerun(Replays.BulkReplay job, string tenant) =>
        new(Notify.IdFor(NotificationTypes.RerunCompleted, job.Id.ToString()), NotificationTypes.RerunCompleted, job.FinishedAt ?? job.CreatedAt,
            JsonSerializer.SerializeToElement(new
            {
                replayId = job.Id, total = job.Total, succeeded = job.Outcomes.Succeeded, failed = job.Outcomes.Failed,
                skipped = job.Outcomes.Skipped, notStarted = job.NotStarted.Count, reason = job.Reason, url = $"/api/v1/replays/{job.Id}",
            }), tenant);

    /// The tenant's runs wait and no Workers take them.
    public static Notify OfStall(string tenant, Guid oldestRunId, double waitedSeconds, TimeSpan threshold, DateTimeOffset at) =>
        new(Notify.IdFor(NotificationTypes.QueueStalled, $"{tenant}:{oldestRunId}"), NotificationTypes.QueueStalled, at,
            JsonSerializer.SerializeToElement(new
            {
                oldestRunId, waitedSeconds = Math.Round(waitedSeconds), thresholdSeconds = threshold.TotalSeconds, url = $"/api/v1/runs/{oldestRunId}",
            }), tenant);

    /// A verification found the record not as it was chained or witnessed. One notification per first mismatch found.
    public static Notify OfMismatch(string tenant, long seq, string reason, string detail, DateTimeOffset at) =>
        new(Notify.IdFor(NotificationTypes.AuditMismatch, $"{tenant}:{seq}:{reason}"), NotificationTypes.AuditMismatch, at,
            JsonSerializer.SerializeToElement(new { seq, reason, detail, url = "/api/v1/audit/verify" }), tenant);
}
