using System.Text.Json;
using Enate.Domain.Recipes;
using Enate.Domain.Runs;

namespace Enate.Domain.Engine;

/// How every run begins, whoever asks for it (a trigger, an inbound request, a replay): its RunRequested.
public static class NewRuns
{
    /// A run of one recipe version with this input. A run whose input is its inbound request's recorded body keeps
    /// none of its own (`inputInInbound`); the work item is found in the input, else the one given (a replay's old run).
    public static RunRequested Requested(Guid runId, string recipeKey, int version, RecipeDefinition definition, string? sha256,
        string trigger, JsonElement input, string requestedBy, DateTimeOffset at, string? idempotencyKey = null, Guid? replayOf = null,
        Guid? inboundId = null, bool inputInInbound = false, string? workItem = null) =>
        new(runId, recipeKey, version, trigger, inputInInbound ? default : input, idempotencyKey,
            WorkItems.Extract(definition, input) ?? workItem, replayOf, requestedBy, at, inboundId, inputInInbound, sha256);
}
