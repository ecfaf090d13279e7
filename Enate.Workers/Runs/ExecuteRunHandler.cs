using Enate.Domain.Runs;
using Wolverine.Marten;

namespace Enate.Workers.Runs;

public static class ExecuteRunHandler
{
    public static Events Handle(ExecuteRun command, [WriteAggregate(nameof(ExecuteRun.RunId))] Run run, TimeProvider clock)
    {
        if (run.IsFinished) return [];
        var now = clock.GetUtcNow();
        return [new RunStarted(run.Id, run.Attempts + 1, Environment.MachineName, now), new RunSucceeded(run.Id, run.Input, now)];
    }
}
