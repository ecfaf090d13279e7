using Enate.Domain.Runs;
using Marten;

namespace Enate.Domain.Replays;

/// What replays add to the shared Marten configuration.
public static class ReplayStore
{
    public static void Configure(StoreOptions options)
    {
        options.Events.AddEventType<RunReplayed>();
        options.Schema.For<BulkReplay>();
        options.Schema.For<ReplaySelection>();
        options.Schema.For<WhatIfJob>();
    }
}
