using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Enate.Console.Platform;

/// Who is signed in: the API key and what it may do, held in this process only. The browser holds a random session
/// id in an HttpOnly cookie, never the key; signing out or an idle hour forgets it.
public sealed record Session(string Key, string Name, string? Tenant, string[] Scopes)
{
    public DateTimeOffset LastSeen { get; set; } = DateTimeOffset.UtcNow;

    /// A new key, shown on the next page and then forgotten.
    public string? Shown { get; set; }

    /// What the key may do, as the API decides it: `admin` may do everything in its tenant.
    public bool May(string scope) => Scopes.Contains(scope) || Scopes.Contains("admin");
}

public sealed class Sessions(TimeProvider clock)
{
    public const string Cookie = "enate-console";
    private static readonly TimeSpan Idle = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, Session> _sessions = new();

    public string Start(Session session)
    {
        foreach (var (id, old) in _sessions)
            if (clock.GetUtcNow() - old.LastSeen > Idle) _sessions.TryRemove(id, out _);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _sessions[key] = session;
        return key;
    }

    public Session? Find(string? id)
    {
        if (id is null || !_sessions.TryGetValue(id, out var session)) return null;
        if (clock.GetUtcNow() - session.LastSeen > Idle)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }
        session.LastSeen = clock.GetUtcNow();
        return session;
    }

    public void End(string? id)
    {
        if (id is not null) _sessions.TryRemove(id, out _);
    }
}
