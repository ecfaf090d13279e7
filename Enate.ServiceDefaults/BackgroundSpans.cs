using System.Diagnostics;
using OpenTelemetry;

namespace Microsoft.Extensions.Hosting;

/// Keeps the platform's own background chatter out of the traces. A span with a parent follows its parent (the SDK's
/// parent-based sampling), so a request or a run keeps its whole trace: API request → the Workers' handling of the
/// run's messages → the calls to partners, with every database call in between. A span without a parent is recorded
/// only when it is work someone asked for (a request, a message being handled, an outbound call). Database calls with
/// no parent (queue polling, the projection daemon, the audit chainer) and Wolverine's agents' housekeeping are not
/// recorded, and neither is anything under them.
public sealed class BackgroundSpans : BaseProcessor<Activity>
{
    public override void OnStart(Activity activity)
    {
        if (activity.ParentSpanId != default || !IsBackground(activity.OperationName, activity.Source.Name)) return;
        // Unrecorded: the exporters skip it, and its children, sampled by their parent, are never recorded either.
        activity.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        activity.IsAllDataRequested = false;
    }

    /// A root span no one asked for: a database call (Npgsql, Marten) or a Wolverine agent's housekeeping (named
    /// `wolverine_…` or `wolverine.…`; the handling of a message is named after the message).
    public static bool IsBackground(string name, string source) => source switch
    {
        "Npgsql" or "Marten" => true,
        "Wolverine" => name.StartsWith("wolverine", StringComparison.Ordinal),
        _ => false,
    };
}
