using Enate.Api.Platform;
using Enate.Testing;

namespace Enate.Api.Tests.Platform;

/// The cache in front of recipes, hook secrets and API keys: a burst must neither wait for nor multiply reads,
/// and nothing older than its maximum age may be used.
public sealed class when_a_value_is_cached_fresh
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 29, 8, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private readonly Clock _clock = new();
    private int _loads;
    private TaskCompletionSource<string>? _gate;

    private async Task<string> Load(string key)
    {
        var n = Interlocked.Increment(ref _loads);
        if (_gate is { } gate) return await gate.Task;
        return $"{key}#{n}";
    }

    [Fact]
    public async Task a_burst_of_first_callers_shares_one_read()
    {
        var cache = new FreshCache<string, string>(TimeSpan.FromSeconds(1), _clock);
        _gate = new TaskCompletionSource<string>();
        var callers = Enumerable.Range(0, 50).Select(_ => cache.GetAsync("recipe", Load, CancellationToken.None).AsTask()).ToList();
        _gate.SetResult("v1");

        Assert.All(await Task.WhenAll(callers), v => Assert.Equal("v1", v));
        Assert.Equal(1, _loads);
    }

    [Fact]
    public async Task past_half_its_age_the_old_value_serves_while_one_reload_runs()
    {
        var cache = new FreshCache<string, string>(TimeSpan.FromSeconds(1), _clock);
        Assert.Equal("recipe#1", await cache.GetAsync("recipe", Load, CancellationToken.None));

        _clock.Now += TimeSpan.FromMilliseconds(600);
        _gate = new TaskCompletionSource<string>();
        var during = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => cache.GetAsync("recipe", Load, CancellationToken.None).AsTask()));
        Assert.All(during, v => Assert.Equal("recipe#1", v));
        // One reload, in the background (it may not have begun when the callers returned).
        await Eventually.Get(() => Task.FromResult(Volatile.Read(ref _loads)), n => n >= 2);

        _gate.SetResult("recipe#2");
        await Eventually.Get(() => cache.GetAsync("recipe", Load, CancellationToken.None).AsTask(), v => v == "recipe#2");
        Assert.Equal(2, _loads);
    }

    [Fact]
    public async Task at_its_maximum_age_callers_wait_for_the_new_value()
    {
        var cache = new FreshCache<string, string>(TimeSpan.FromSeconds(1), _clock);
        await cache.GetAsync("recipe", Load, CancellationToken.None);

        _clock.Now += TimeSpan.FromSeconds(1);
        Assert.Equal("recipe#2", await cache.GetAsync("recipe", Load, CancellationToken.None));
    }

    [Fact]
    public async Task a_forgotten_value_is_read_again_at_once()
    {
        var cache = new FreshCache<string, string>(TimeSpan.FromSeconds(1), _clock);
        await cache.GetAsync("recipe", Load, CancellationToken.None);
        cache.Forget("recipe");
        Assert.Equal("recipe#2", await cache.GetAsync("recipe", Load, CancellationToken.None));
    }
}
