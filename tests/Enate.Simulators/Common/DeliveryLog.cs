using System.Collections.Concurrent;

namespace Enate.Simulators.Common;

public sealed record DeliveryAttempt(int Number, DateTimeOffset At, int? Status, string? Error);

/// One copy of one message to one receiver, with every attempt made to deliver it.
public sealed class WebhookDelivery
{
    private readonly List<DeliveryAttempt> _attempts = [];

    public required string Id { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string Event { get; init; }
    public required string Url { get; init; }
    public required string Body { get; init; }
    /// Standard Webhooks message id (webhook-id), or null for Enate's webhooks.
    public string? MessageId { get; init; }
    /// The receiver: a Standard Webhooks endpoint id or an Enate subscription GUID.
    public required string Target { get; init; }
    /// 0 for the original, 1..n for the duplicates asked for.
    public int Copy { get; init; }
    public bool BadSignature { get; init; }
    public string State { get; private set; } = "pending";

    public void Record(DeliveryAttempt attempt, bool delivered, bool final)
    {
        lock (_attempts)
        {
            _attempts.Add(attempt);
            if (delivered) State = "delivered";
            else if (final) State = "failed";
        }
    }

    public object Snapshot()
    {
        lock (_attempts)
        {
            return new
            {
                Id, At, Event, Url, MessageId, Target, Copy, BadSignature, State,
                StatusCodes = _attempts.Select(a => a.Status).ToArray(),
                Attempts = _attempts.ToArray(),
                Body,
            };
        }
    }
}

public sealed class DeliveryLog
{
    private readonly ConcurrentQueue<WebhookDelivery> _deliveries = new();

    public void Add(WebhookDelivery delivery)
    {
        _deliveries.Enqueue(delivery);
        while (_deliveries.Count > RequestLog.Capacity) _deliveries.TryDequeue(out _);
    }

    public IEnumerable<object> Snapshot() => _deliveries.Select(d => d.Snapshot()).ToArray();

    public void Clear() => _deliveries.Clear();
}
