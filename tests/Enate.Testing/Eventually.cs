namespace Enate.Testing;

/// Polls until asynchronous work (a worker, a projection) has reached the expected state.
public static class Eventually
{
    public static async Task<T> Get<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var last = await read();
        while (!done(last))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not reached within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds} s; last seen: {System.Text.Json.JsonSerializer.Serialize(last)}");
            }
            await Task.Delay(100);
            last = await read();
        }
        return last;
    }
}
