namespace Enate.Simulators.Common;

/// One simulated system: what it received, the side effects it applied, the faults it injects and the
/// webhooks it sent. Its own domain state registers a reset hook so that DELETE /_sim/{app} clears everything.
public sealed class SimulatedApp(string name)
{
    private readonly List<Action> _resets = [];
    private CancellationTokenSource _lifetime = new();

    public string Name { get; } = name;
    public RequestLog Requests { get; } = new();
    public EffectLedger Effects { get; } = new();
    public FaultInjector Faults { get; } = new();
    public DeliveryLog Deliveries { get; } = new();
    public WebhookEndpoints WebhookEndpoints { get; } = new();

    /// Cancelled on reset: pending deliveries and timers of the previous state stop instead of leaking into the next test.
    public CancellationToken Lifetime => Volatile.Read(ref _lifetime).Token;

    public void OnReset(Action reset)
    {
        lock (_resets) _resets.Add(reset);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _lifetime, new CancellationTokenSource()).Cancel();
        Requests.Clear();
        Effects.Clear();
        Faults.Clear();
        Deliveries.Clear();
        WebhookEndpoints.Clear();
        Action[] resets;
        lock (_resets) resets = [.. _resets];
        foreach (var reset in resets) reset();
    }
}

/// The six simulated systems, by the first segment of their paths.
public sealed class SimulatedApps
{
    public static readonly string[] Names = ["enate", "crm", "hr", "erp", "payroll", "portal"];

    private readonly Dictionary<string, SimulatedApp> _apps =
        Names.ToDictionary(name => name, name => new SimulatedApp(name), StringComparer.OrdinalIgnoreCase);

    public SimulatedApp this[string name] => _apps[name];

    public SimulatedApp? Find(string name) => _apps.GetValueOrDefault(name);

    /// The app whose real API a path belongs to; null for control paths (/_sim/..., /{app}/_sim/...) and anything else.
    public SimulatedApp? ForApiPath(PathString path)
    {
        var segments = (path.Value ?? "").Split('/', 3, StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || _apps.GetValueOrDefault(segments[0]) is not { } app) return null;
        if (segments.Length > 1 && segments[1].StartsWith("_sim", StringComparison.Ordinal)) return null;
        return app;
    }
}
