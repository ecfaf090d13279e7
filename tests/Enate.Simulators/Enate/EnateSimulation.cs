using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// What happens inside Enate without the API: a user creates or edits a work item, an email arrives,
/// a business object changes. Each emits the webhook Enate would send.
public static class EnateSimulation
{
    public sealed record CommunicationBody(
        Guid? PacketGuid, string? From, string? Sender, string? Cc, string? Subject, string? Body,
        int? AttachmentCount, string? CommunicationType, string? StartedByMethod, int? Duplicates);

    public sealed record BusinessObjectBody(string? BusinessObjectType, string? Name, JsonObject? Fields, int? Duplicates);

    public static void Map(IEndpointRouteBuilder sim)
    {
        sim.MapPost("/packets", (PacketFields body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (EnatePackets.Invalid(body, creating: true) is { } problem) return Problems.BadRequest(problem);
            JsonObject json;
            EventSubject subject;
            lock (state.Sync)
            {
                if (body.ParentGuid is { } parent && !state.Packets.ContainsKey(parent)) return Problems.BadRequest($"No parent packet {parent}.");
                var packet = EnatePackets.Create(state, body.ProcessType ?? ProcessType.Case, body, clock.GetUtcNow());
                (json, subject) = (packet.ToJson(), EventSubject.Of(packet));
            }
            webhooks.Publish("PacketCreated", (JsonObject)json.DeepClone(), subject, body.Duplicates);
            return EnatePackets.Ok(json, StatusCodes.Status201Created);
        });

        sim.MapPatch("/packets/{guid:guid}", (Guid guid, PacketFields body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (EnatePackets.Invalid(body, creating: false) is { } problem) return Problems.BadRequest(problem);
            if (body.ProcessType is not null || body.ParentGuid is not null) return Problems.BadRequest("processType and parentGuid cannot change.");
            JsonObject json;
            EventSubject subject;
            lock (state.Sync)
            {
                if (!state.Packets.TryGetValue(guid, out var packet)) return EnatePackets.NotFound(guid);
                EnatePackets.Apply(packet, body, clock.GetUtcNow());
                (json, subject) = (packet.ToJson(), EventSubject.Of(packet));
            }
            webhooks.Publish("PacketUpdated", (JsonObject)json.DeepClone(), subject, body.Duplicates);
            return EnatePackets.Ok(json);
        });

        sim.MapPost("/communications", (CommunicationBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (body.PacketGuid is not { } packetGuid) return Problems.BadRequest("packetGuid is required.");
            if (string.IsNullOrWhiteSpace(body.From) || body.Subject is null || body.Body is null)
            {
                return Problems.BadRequest("from, subject and body are required.");
            }
            JsonObject json;
            EventSubject subject;
            lock (state.Sync)
            {
                if (!state.Packets.TryGetValue(packetGuid, out var packet)) return EnatePackets.NotFound(packetGuid);
                var communication = new Communication(Guid.NewGuid(), packetGuid, body.From, body.Sender ?? body.From, body.Cc,
                    body.Subject, body.Body, body.AttachmentCount ?? 0, body.CommunicationType ?? "Email",
                    body.StartedByMethod ?? "Email", clock.GetUtcNow());
                packet.Communications.Add(communication);
                json = Packet.ToJson(communication, packet);
                subject = EventSubject.Of(packet);
            }
            webhooks.Publish("NewCommunication", (JsonObject)json.DeepClone(), subject, body.Duplicates);
            return EnatePackets.Ok(json, StatusCodes.Status201Created);
        });

        sim.MapPost("/business-objects", (BusinessObjectBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.BusinessObjectType)) return Problems.BadRequest("businessObjectType is required.");
            var businessObject = new BusinessObject
            {
                GUID = Guid.NewGuid(),
                BusinessObjectType = body.BusinessObjectType,
                Name = body.Name,
                Fields = (JsonObject?)body.Fields?.DeepClone() ?? [],
                LastUpdatedOn = clock.GetUtcNow(),
            };
            JsonObject json;
            lock (state.Sync)
            {
                state.BusinessObjects[businessObject.GUID] = businessObject;
                json = businessObject.ToJson();
            }
            webhooks.Publish("BusinessObjectCreated", (JsonObject)json.DeepClone(), new EventSubject(businessObject.GUID), body.Duplicates);
            return EnatePackets.Ok(json, StatusCodes.Status201Created);
        });

        sim.MapPatch("/business-objects/{guid:guid}", (Guid guid, BusinessObjectBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            JsonObject json;
            lock (state.Sync)
            {
                if (!state.BusinessObjects.TryGetValue(guid, out var businessObject)) return Problems.NotFound($"No business object {guid}.");
                if (body.BusinessObjectType is not null && body.BusinessObjectType != businessObject.BusinessObjectType)
                {
                    return Problems.BadRequest("businessObjectType cannot change.");
                }
                if (body.Name is not null) businessObject.Name = body.Name;
                EnateState.Merge(businessObject.Fields, body.Fields);
                businessObject.LastUpdatedOn = clock.GetUtcNow();
                json = businessObject.ToJson();
            }
            webhooks.Publish("BusinessObjectUpdated", (JsonObject)json.DeepClone(), new EventSubject(guid), body.Duplicates);
            webhooks.Publish("SpecificBusinessObjectUpdated", (JsonObject)json.DeepClone(), new EventSubject(guid), body.Duplicates);
            return EnatePackets.Ok(json);
        });

        EnateActions.MapTrigger(sim);
    }
}
