using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Enate.Simulators.Enate;

/// Enate's work item statuses (Draft 0 … Closed 5), as named in Enate's 2021.1 state model.
public static class PacketStatus
{
    public const int Draft = 0, ToDo = 1, InProgress = 2, Waiting = 3, Resolved = 4, Closed = 5;

    public static string Name(int status) => status switch
    {
        Draft => "Draft",
        ToDo => "To Do",
        InProgress => "In Progress",
        Waiting => "Waiting",
        Resolved => "Resolved",
        Closed => "Closed",
        _ => "Unknown",
    };
}

/// Enate's status reasons (API enum values from Enate's docs) that the simulator uses.
public static class StatusReason
{
    public const int NewlyCreated = 0, UpdatedByResource = 1, UpdatedByIntegration = 2, Timeout = 5;

    public static string Name(int reason) => reason switch
    {
        NewlyCreated => "Newly created",
        UpdatedByResource => "Updated by resource",
        UpdatedByIntegration => "Updated by Integration",
        Timeout => "Timeout",
        _ => "Unknown",
    };
}

public static class ProcessType
{
    public const int Case = 1, Ticket = 2, Action = 3;

    public static string Name(int type) => type switch { Case => "Case", Ticket => "Ticket", Action => "Action", _ => "Unknown" };
    public static string Suffix(int type) => type switch { Case => "C", Ticket => "T", _ => "A" };
}

public sealed record Note(Guid GUID, string Text, DateTimeOffset CreatedOn);
public sealed record Notification(Guid GUID, string Message, string? SentTo, DateTimeOffset SentOn);

public sealed record Communication(
    Guid GUID, Guid PacketGUID, string From, string? Sender, string? CC, string Subject, string Body,
    int AttachmentCount, string CommunicationType, string StartedbyMethod, DateTimeOffset CreatedOn);

/// A work item (Case, Ticket or Action). Mutated only under the EnateState lock.
public sealed class Packet
{
    public required Guid GUID { get; init; }
    public required string Reference { get; init; }
    public required int ProcessType { get; init; }
    public Guid? ParentGUID { get; init; }
    public string Title { get; set; } = "";
    public string? CustomerName { get; set; }
    public string? SupplierName { get; set; }
    public string? ContractName { get; set; }
    public string? ServiceName { get; set; }
    public string? ServiceLineName { get; set; }
    public DateTimeOffset? DueDate { get; set; }
    public int Status { get; set; } = PacketStatus.ToDo;
    public int StatusReason { get; set; } = Enate.StatusReason.NewlyCreated;
    /// -2 not applicable, -1 red, 0 amber, 1 green (the simulator's reading of Enate's -2…1 range).
    public int RAGStatus { get; set; } = 1;
    public string? OwnerEmail { get; set; }
    public string? ResolutionReason { get; set; }
    public string? RejectedReason { get; set; }
    public JsonObject CustomData { get; set; } = [];
    public List<Note> Notes { get; } = [];
    public List<Notification> Notifications { get; } = [];
    public List<Communication> Communications { get; } = [];
    public required DateTimeOffset CreatedOn { get; init; }
    public DateTimeOffset LastUpdatedOn { get; set; }

    /// Company, contract and service ids derived from their names, so a FilterObjectGUID can be computed by a test.
    public Guid? CustomerGUID => NamedGuid("Company", CustomerName);
    public Guid? ContractGUID => NamedGuid("Contract", ContractName);
    public Guid? ServiceGUID => NamedGuid("Service", ServiceName);

    public static Guid? NamedGuid(string kind, string? name) =>
        string.IsNullOrEmpty(name) ? null : new Guid(MD5.HashData(Encoding.UTF8.GetBytes($"{kind}:{name}")));

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["GUID"] = GUID,
            ["PacketGUID"] = GUID,
            ["Reference"] = Reference,
            ["Title"] = Title,
            ["ProcessType"] = ProcessType,
            ["ProcessTypeName"] = Enate.ProcessType.Name(ProcessType),
            ["ParentGUID"] = ParentGUID,
            ["CustomerName"] = CustomerName,
            ["CustomerGUID"] = CustomerGUID,
            ["SupplierName"] = SupplierName,
            ["ContractName"] = ContractName,
            ["ContractGUID"] = ContractGUID,
            ["ServiceName"] = ServiceName,
            ["ServiceGUID"] = ServiceGUID,
            ["ServiceLineName"] = ServiceLineName,
            ["DueDate"] = DueDate,
            ["Status"] = Status,
            ["StatusName"] = PacketStatus.Name(Status),
            ["StatusReason"] = StatusReason,
            ["StatusReasonName"] = Enate.StatusReason.Name(StatusReason),
            ["RAGStatus"] = RAGStatus,
            ["OwnerEmail"] = OwnerEmail,
            ["CustomData"] = CustomData.DeepClone(),
            ["Notes"] = new JsonArray([.. Notes.Select(n => (JsonNode)new JsonObject
            {
                ["GUID"] = n.GUID, ["Note"] = n.Text, ["CreatedOn"] = n.CreatedOn,
            })]),
            ["Notifications"] = new JsonArray([.. Notifications.Select(n => (JsonNode)new JsonObject
            {
                ["GUID"] = n.GUID, ["Message"] = n.Message, ["SentTo"] = n.SentTo, ["SentOn"] = n.SentOn,
            })]),
            ["CommunicationCount"] = Communications.Count,
            ["CreatedOn"] = CreatedOn,
            ["LastUpdatedOn"] = LastUpdatedOn,
        };
        if (ProcessType == Enate.ProcessType.Action)
        {
            json["State"] = PacketStatus.Name(Status);
            json["ResolutionReason"] = ResolutionReason;
            json["RejectedReason"] = RejectedReason;
        }
        return json;
    }

    public static JsonObject ToJson(Communication c, Packet packet) => new()
    {
        ["GUID"] = c.GUID,
        ["PacketGUID"] = c.PacketGUID,
        ["Reference"] = packet.Reference,
        ["CustomerName"] = packet.CustomerName,
        ["Sender"] = c.Sender,
        ["CC"] = c.CC,
        ["From"] = c.From,
        ["Subject"] = c.Subject,
        ["Body"] = c.Body,
        ["AttachmentCount"] = c.AttachmentCount,
        ["CommunicationType"] = c.CommunicationType,
        ["StartedbyMethod"] = c.StartedbyMethod,
        ["CreatedOn"] = c.CreatedOn,
    };
}
