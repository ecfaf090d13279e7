using Enate.Domain.Engine;
using Enate.Domain.Recipes;
using Enate.Domain.Replays;
using Enate.Domain.Runs;
using Marten;
using Wolverine;

namespace Enate.Workers.Replays;

/// Compares a what-if job's next runs, saves them with the job, and sends itself on until every run is compared. Two
/// deliveries of one step collide on the job's version; the loser retries against the fresh state.
public static class CompareRunsHandler
{
    public static async Task Handle(CompareRuns command, IDocumentSession session, IMessageContext bus, RunEngine engine, TimeProvider clock,
        CancellationToken ct)
    {
        var job = await session.LoadAsync<WhatIfJob>(command.WhatIfId, ct);
        if (job is null || job.Status != WhatIfJobStatus.Running) return;
        var target = await session.LoadAsync<RecipeVersion>(RecipeVersion.IdFor(job.Key, job.Version), ct);

        var batch = job.RunIds.Skip(job.Runs.Count).Take(WhatIfJob.Batch).ToArray();
        var summaries = (await session.LoadManyAsync<RunSummary>(ct, batch)).ToDictionary(r => r.Id);
        // A run whose summary is gone (a rebuild in progress, say) is left out rather than holding the job.
        var found = batch.Where(summaries.ContainsKey).Select(id => summaries[id]).ToList();
        job.RunIds.RemoveAll(id => batch.Contains(id) && !summaries.ContainsKey(id));
        if (target is not null) job.Runs.AddRange(await WhatIf.CompareAsync(session, engine, target, found, clock.GetUtcNow(), ct));

        if (target is null || job.Runs.Count >= job.RunIds.Count)
        {
            job.Status = WhatIfJobStatus.Completed;
            job.FinishedAt = clock.GetUtcNow();
        }
        else
        {
            await bus.PublishAsync(command, new DeliveryOptions { TenantId = command.TenantId });
        }
        session.Store(job);
    }
}
