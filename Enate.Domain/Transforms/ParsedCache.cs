using System.Collections.Concurrent;

namespace Enate.Domain.Transforms;

// The same recipe runs thousands of times, so each template or expression text is parsed once.
internal sealed class ParsedCache<T>(int capacity) where T : class
{
    private readonly ConcurrentDictionary<string, T> entries = new(StringComparer.Ordinal);

    public T GetOrAdd(string text, Func<string, T> parse)
    {
        if (entries.TryGetValue(text, out var found)) return found;
        var parsed = parse(text);
        // Recipes are few and stable; starting over when full keeps memory bounded without LRU bookkeeping.
        if (entries.Count >= capacity) entries.Clear();
        return entries.GetOrAdd(text, parsed);
    }

    public int Count => entries.Count;
}
