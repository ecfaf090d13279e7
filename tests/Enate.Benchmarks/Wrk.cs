using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Enate.Benchmarks;

public sealed record LoadResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx, long Requests);

/// wrk (apt-get install wrk) over loopback, bounded in time, with a Lua script that prepares the requests.
public static partial class Wrk
{
    public static string? Path => new[] { "/usr/bin/wrk", "/usr/local/bin/wrk" }.FirstOrDefault(File.Exists);

    public static async Task<LoadResult> RunAsync(string url, string script, int seconds, int connections, params string[] scriptArgs)
    {
        var info = new ProcessStartInfo(Path!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-t2", $"-c{connections}", $"-d{seconds}s", "--latency", "--timeout", "10s", "-s", script, url })
            info.ArgumentList.Add(arg);
        if (scriptArgs.Length > 0) info.ArgumentList.Add("--");
        foreach (var arg in scriptArgs) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !output.Contains("Requests/sec")) throw new InvalidOperationException($"wrk failed:\n{output}");

        var non2xx = Non2xx().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value) : 0;
        return new LoadResult(
            double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile(output, "50"), Percentile(output, "99"), non2xx,
            long.Parse(Requests().Match(output).Groups[1].Value));
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Requests();

    /// A script that POSTs the same JSON body every time.
    public static string PostScript(string body)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"enate-wrk-post-{Guid.NewGuid():N}.lua");
        File.WriteAllText(path, $"wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = [[{body}]]\n");
        return path;
    }

    /// A script that sends prepared, individually signed webhooks (one per line of the data file: id, timestamp,
    /// signature, body, tab-separated); each wrk thread takes every n-th line, so no two requests share an id.
    public static string SignedWebhookScript() =>
        WriteScript("""
            local requests = {}
            local index = 0
            local threads = 0
            function setup(thread)
              thread:set("tid", threads)
              threads = threads + 1
            end
            function init(args)
              local n = 0
              local count = tonumber(args[3])
              for line in io.lines(args[1]) do
                if n % count == tid then
                  local id, ts, sig, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
                  requests[#requests + 1] = wrk.format("POST", args[2], {
                    ["Content-Type"] = "application/json", ["webhook-id"] = id,
                    ["webhook-timestamp"] = ts, ["webhook-signature"] = sig }, body)
                end
                n = n + 1
              end
            end
            function request()
              index = index + 1
              if index > #requests then index = 1 end
              return requests[index]
            end
            """);

    private static string WriteScript(string text)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"enate-wrk-{Guid.NewGuid():N}.lua");
        File.WriteAllText(path, text);
        return path;
    }
}
