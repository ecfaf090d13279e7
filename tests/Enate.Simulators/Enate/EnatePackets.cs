using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

/// Fields a client may set on a packet; null leaves a field as it is. Also the body of the _sim packet endpoints.
public sealed record PacketFields(
    string? Title = null,
    int? ProcessType = null,
    Guid? ParentGuid = null,
    string? CustomerName = null,
    string? SupplierName = null,
    string? ContractName = null,
    string? ServiceName = null,
    string? ServiceLineName = null,
    DateTimeOffset? DueDate = null,
    int? Status = null,
    int? RAGStatus = null,
    string? OwnerEmail = null,
    JsonObject? CustomData = null,
    int? Duplicates = null);

public sealed record CustomDataUpdate(JsonObject? CustomData);
public sealed record NoteBody(string? Note);
public sealed record NotifyBody(string? Message);

public static class EnatePackets
{
    public static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };

    public static IResult Ok(JsonNode json, int status = StatusCodes.Status200OK) => Results.Json(json, Json, statusCode: status);

    public static string? Invalid(PacketFields fields, bool creating)
    {
        if (creating && string.IsNullOrWhiteSpace(fields.Title)) return "title is required.";
        if (fields.ProcessType is not (null or 1 or 2 or 3)) return "processType must be 1 (Case), 2 (Ticket) or 3 (Action).";
        if (fields.Status is < PacketStatus.Draft or > PacketStatus.Closed) return "status must be between 0 (Draft) and 5 (Closed).";
        if (fields.RAGStatus is < -2 or > 1) return "ragStatus must be between -2 and 1.";
        return null;
    }

    /// Creates a packet under the state lock and returns its JSON; the caller publishes PacketCreated.
    public static Packet Create(EnateState state, int processType, PacketFields fields, DateTimeOffset now)
    {
        var packet = new Packet
        {
            GUID = Guid.NewGuid(),
            Reference = state.NextReference(processType),
            ProcessType = processType,
            ParentGUID = fields.ParentGuid,
            CreatedOn = now,
            LastUpdatedOn = now,
        };
        Apply(packet, fields, now);
        state.Packets[packet.GUID] = packet;
        return packet;
    }

    public static void Apply(Packet packet, PacketFields fields, DateTimeOffset now)
    {
        if (fields.Title is not null) packet.Title = fields.Title;
        if (fields.CustomerName is not null) packet.CustomerName = fields.CustomerName;
        if (fields.SupplierName is not null) packet.SupplierName = fields.SupplierName;
        if (fields.ContractName is not null) packet.ContractName = fields.ContractName;
        if (fields.ServiceName is not null) packet.ServiceName = fields.ServiceName;
        if (fields.ServiceLineName is not null) packet.ServiceLineName = fields.ServiceLineName;
        if (fields.DueDate is not null) packet.DueDate = fields.DueDate;
        if (fields.Status is { } status) packet.Status = status;
        if (fields.RAGStatus is { } rag) packet.RAGStatus = rag;
        if (fields.OwnerEmail is not null) packet.OwnerEmail = fields.OwnerEmail;
        EnateState.Merge(packet.CustomData, fields.CustomData);
        packet.LastUpdatedOn = now;
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/Packet/{guid:guid}", (Guid guid, EnateState state) =>
        {
            lock (state.Sync) return state.Packets.TryGetValue(guid, out var p) ? Ok(p.ToJson()) : NotFound(guid);
        });

        api.MapGet("/Packet/Search", Search);
        api.MapGet("/Packet", Search);

        api.MapGet("/Packet/{guid:guid}/Communications", (Guid guid, EnateState state) =>
        {
            lock (state.Sync)
            {
                return state.Packets.TryGetValue(guid, out var p)
                    ? Ok(new JsonArray([.. p.Communications.Select(c => (JsonNode)Packet.ToJson(c, p))]))
                    : NotFound(guid);
            }
        });

        api.MapPost("/Packet/{guid:guid}/CustomData", (Guid guid, CustomDataUpdate body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (body.CustomData is null) return Problems.BadRequest("customData (an object) is required.");
            return Update(guid, state, webhooks, packet =>
            {
                EnateState.Merge(packet.CustomData, body.CustomData);
                packet.LastUpdatedOn = clock.GetUtcNow();
            });
        }).IsSideEffect();

        api.MapPost("/Packet/{guid:guid}/Note", (Guid guid, NoteBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.Note)) return Problems.BadRequest("note is required.");
            return Update(guid, state, webhooks, packet =>
            {
                packet.Notes.Add(new Note(Guid.NewGuid(), body.Note, clock.GetUtcNow()));
                packet.LastUpdatedOn = clock.GetUtcNow();
            });
        }).IsSideEffect();

        api.MapPost("/Packet/{guid:guid}/NotifyOwner", (Guid guid, NotifyBody body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.Message)) return Problems.BadRequest("message is required.");
            return Update(guid, state, webhooks, packet =>
                packet.Notifications.Add(new Notification(Guid.NewGuid(), body.Message, packet.OwnerEmail, clock.GetUtcNow())),
                publish: false);
        }).IsSideEffect();

        api.MapPost("/Case", (PacketFields body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
            CreateFromApi(ProcessType.Case, body, state, webhooks, clock)).IsSideEffect();
        api.MapPost("/Ticket", (PacketFields body, EnateState state, EnateWebhooks webhooks, TimeProvider clock) =>
            CreateFromApi(ProcessType.Ticket, body, state, webhooks, clock)).IsSideEffect();
    }

    private static IResult Search(string? reference, string? customerName, int? processType, EnateState state)
    {
        lock (state.Sync)
        {
            var found = state.Packets.Values
                .Where(p => reference is null || string.Equals(p.Reference, reference, StringComparison.OrdinalIgnoreCase))
                .Where(p => customerName is null || string.Equals(p.CustomerName, customerName, StringComparison.OrdinalIgnoreCase))
                .Where(p => processType is null || p.ProcessType == processType)
                .OrderByDescending(p => p.CreatedOn)
                .Select(p => (JsonNode)p.ToJson());
            return Ok(new JsonArray([.. found]));
        }
    }

    private static IResult CreateFromApi(int processType, PacketFields body, EnateState state, EnateWebhooks webhooks, TimeProvider clock)
    {
        if (Invalid(body with { ProcessType = null }, creating: true) is { } problem) return Problems.BadRequest(problem);
        JsonObject json;
        EventSubject subject;
        lock (state.Sync)
        {
            var packet = Create(state, processType, body with { Status = body.Status ?? PacketStatus.ToDo }, clock.GetUtcNow());
            (json, subject) = (packet.ToJson(), EventSubject.Of(packet));
        }
        webhooks.Publish("PacketCreated", (JsonObject)json.DeepClone(), subject);
        return Results.Json(json, Json, statusCode: StatusCodes.Status201Created);
    }

    /// Applies a change to one packet and, unless told otherwise, announces it with PacketUpdated.
    public static IResult Update(Guid guid, EnateState state, EnateWebhooks webhooks, Action<Packet> change, bool publish = true)
    {
        JsonObject json;
        EventSubject subject;
        lock (state.Sync)
        {
            if (!state.Packets.TryGetValue(guid, out var packet)) return NotFound(guid);
            change(packet);
            (json, subject) = (packet.ToJson(), EventSubject.Of(packet));
        }
        if (publish) webhooks.Publish("PacketUpdated", (JsonObject)json.DeepClone(), subject);
        return Ok(json);
    }

    public static IResult NotFound(Guid guid) => Problems.NotFound($"No packet {guid}.");
}
