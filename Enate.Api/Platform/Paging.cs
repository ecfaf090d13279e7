using System.Text;

namespace Enate.Api.Platform;

/// A short, fixed list answered whole (the problem catalogue).
public sealed record Listing<T>(IReadOnlyList<T> Items);

/// One page of a list, and the cursor of the next (null on the last page).
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// Every list that can grow pages the same way: `limit` (1 to 500, 50 by default) and an opaque `cursor` the previous
/// page named. A cursor is the position after the last item, tagged with the list it belongs to.
public static class Paging
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static string Cursor(string list, string position) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{list}:{position}"));

    public static bool TryRead(string cursor, string list, out string position)
    {
        position = "";
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(cursor));
            if (!text.StartsWith(list + ":", StringComparison.Ordinal)) return false;
            position = text[(list.Length + 1)..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// The problem with a request's limit or cursor, if any; the position the cursor names (null: the first page).
    public static IResult? Check(int? limit, string? cursor, string list, out string? position)
    {
        position = null;
        if (limit is < 1 or > MaxLimit) return Problems.Validation([new("$limit", $"must be between 1 and {MaxLimit}.")]);
        if (cursor is null) return null;
        if (!TryRead(cursor, list, out var read)) return InvalidCursor;
        position = read;
        return null;
    }

    public static IResult InvalidCursor => Problems.BadRequest("invalid-cursor", "The cursor is not one this API issued.");

    /// A page from the items read (one more than the limit, to know whether another page follows).
    public static Page<T> Of<T>(IReadOnlyList<T> read, int take, Func<T, string> position, string list) =>
        new(read.Take(take).ToList(), read.Count > take ? Cursor(list, position(read[take - 1])) : null);
}
