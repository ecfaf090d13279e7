using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// Enate's "Trigger External API" action (pattern 1): Enate posts the action to the integration and waits for
/// its callback; success closes the action, failure returns it to To Do, silence past the timeout returns it with "Timeout".
public static class EnateActions
{
    public const string ClientName = "enate-trigger";
    public const string DoneSuccessfully = "Done Successfully";

    public sealed record TriggerBody(string? Url, string? ApiKey, double? TimeoutSeconds);
    public sealed record CallbackBody(string? Outcome, string? RejectedReason, JsonObject? CustomData);

    public static void MapCallback(RouteGroupBuilder api)
    {
        api.MapPost("/Actions/{guid:guid}/Callback", (Guid guid, CallbackBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            var success = string.Equals(body.Outcome, "success", StringComparison.OrdinalIgnoreCase);
            if (!success && !string.Equals(body.Outcome, "failure", StringComparison.OrdinalIgnoreCase))
            {
                return Problems.BadRequest("outcome must be \"success\" or \"failure\".");
            }
            JsonObject json;
            EventSubject subject;
            lock (state.Sync)
            {
                if (!state.Packets.TryGetValue(guid, out var action) || action.ProcessType != ProcessType.Action)
                {
                    return Problems.NotFound($"No action {guid}.");
                }
                if (!state.PendingActions.Remove(guid))
                {
                    return Problems.Conflict($"Action {action.Reference} is not waiting for a callback (it timed out, was already answered or was never triggered); it is {PacketStatus.Name(action.Status)}.");
                }
                EnateState.Merge(action.CustomData, body.CustomData);
                action.StatusReason = StatusReason.UpdatedByIntegration;
                action.Status = success ? PacketStatus.Closed : PacketStatus.ToDo;
                action.ResolutionReason = success ? DoneSuccessfully : StatusReason.Name(StatusReason.UpdatedByIntegration);
                action.RejectedReason = success ? null : body.RejectedReason ?? "";
                action.LastUpdatedOn = clock.GetUtcNow();
                (json, subject) = (action.ToJson(), EventSubject.Of(action));
            }
            webhooks.Publish("PacketUpdated", (JsonObject)json.DeepClone(), subject);
            return EnatePackets.Ok(json);
        }).IsSideEffect();
    }

    public static void MapTrigger(IEndpointRouteBuilder sim)
    {
        sim.MapPost("/actions/{guid:guid}/trigger", async (Guid guid, TriggerBody body, HttpRequest request, EnateState state,
            EnateWebhooks webhooks, SimulatedApps apps, IHttpClientFactory clients, IConfiguration configuration, TimeProvider clock) =>
        {
            if (!Problems.IsAbsoluteHttpUrl(body.Url)) return Problems.BadRequest("url must be an absolute http(s) URL.");
            var timeout = TimeSpan.FromSeconds(body.TimeoutSeconds ?? 60);
            if (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromDays(1)) return Problems.BadRequest("timeoutSeconds must be between 0 and 86400.");

            JsonObject json;
            EventSubject subject;
            long generation;
            lock (state.Sync)
            {
                if (!state.Packets.TryGetValue(guid, out var action) || action.ProcessType != ProcessType.Action)
                {
                    return Problems.NotFound($"No action {guid}.");
                }
                if (action.Status == PacketStatus.Closed) return Problems.Conflict($"Action {action.Reference} is closed.");
                generation = state.NextGeneration();
                state.PendingActions[guid] = new PendingAction(guid, generation, clock.GetUtcNow() + timeout);
                action.Status = PacketStatus.InProgress;
                action.StatusReason = StatusReason.UpdatedByResource;
                action.ResolutionReason = null;
                action.RejectedReason = null;
                action.LastUpdatedOn = clock.GetUtcNow();
                (json, subject) = (action.ToJson(), EventSubject.Of(action));
            }
            webhooks.Publish("PacketUpdated", (JsonObject)json.DeepClone(), subject);
            var lifetime = apps["enate"].Lifetime;
            _ = Task.Run(() => TimeOutAsync(guid, generation, timeout, state, webhooks, clock, lifetime), CancellationToken.None);

            var publicBase = (configuration["Simulators:PublicUrl"] ?? $"{request.Scheme}://{request.Host}{request.PathBase}").TrimEnd('/');
            var payload = new JsonObject
            {
                ["Action"] = new JsonArray(json),
                ["CallBackURL"] = $"{publicBase}/enate/api/v1/Actions/{guid}/Callback",
            };
            using var message = new HttpRequestMessage(HttpMethod.Post, body.Url)
            {
                Content = new StringContent(payload.ToJsonString(EnatePackets.Json), System.Text.Encoding.UTF8, "application/json"),
            };
            if (!string.IsNullOrEmpty(body.ApiKey)) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", body.ApiKey);
            try
            {
                using var response = await clients.CreateClient(ClientName).SendAsync(message, request.HttpContext.RequestAborted);
                var answer = await response.Content.ReadAsStringAsync(request.HttpContext.RequestAborted);
                return Results.Content(answer, response.Content.Headers.ContentType?.ToString() ?? "text/plain", statusCode: (int)response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Enate itself would leave the action waiting: the timeout still applies.
                return Problems.BadGateway($"The integration at {body.Url} could not be reached: {e.Message}");
            }
        });
    }

    private static async Task TimeOutAsync(Guid guid, long generation, TimeSpan timeout, EnateState state, EnateWebhooks webhooks,
        TimeProvider clock, CancellationToken lifetime)
    {
        try
        {
            await Task.Delay(timeout, clock, lifetime);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        JsonObject json;
        EventSubject subject;
        lock (state.Sync)
        {
            if (!state.PendingActions.TryGetValue(guid, out var pending) || pending.Generation != generation) return;
            if (!state.Packets.TryGetValue(guid, out var action)) return;
            state.PendingActions.Remove(guid);
            action.Status = PacketStatus.ToDo;
            action.StatusReason = StatusReason.Timeout;
            action.ResolutionReason = StatusReason.Name(StatusReason.Timeout);
            action.LastUpdatedOn = clock.GetUtcNow();
            (json, subject) = (action.ToJson(), EventSubject.Of(action));
        }
        webhooks.Publish("PacketUpdated", json, subject);
    }
}
