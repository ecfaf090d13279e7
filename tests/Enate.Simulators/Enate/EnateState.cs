using System.Text.Json.Nodes;
using Enate.Simulators.Common;

namespace Enate.Simulators.Enate;

public sealed record EnateUser(Guid GUID, string Email, string? FirstName, string? LastName, JsonObject Extra, DateTimeOffset CreatedOn)
{
    public JsonObject ToJson()
    {
        var json = (JsonObject)Extra.DeepClone();
        json["GUID"] = GUID;
        json["Email"] = Email;
        json["FirstName"] = FirstName;
        json["LastName"] = LastName;
        json["CreatedOn"] = CreatedOn;
        return json;
    }
}

public sealed record DataList(string Name, JsonArray Entries, DateTimeOffset UpdatedOn)
{
    public JsonObject ToJson() => new() { ["Name"] = Name, ["Entries"] = Entries.DeepClone(), ["UpdatedOn"] = UpdatedOn };
}

public sealed class BusinessObject
{
    public required Guid GUID { get; init; }
    public required string BusinessObjectType { get; init; }
    public string? Name { get; set; }
    public JsonObject Fields { get; set; } = [];
    public DateTimeOffset LastUpdatedOn { get; set; }

    public JsonObject ToJson() => new()
    {
        ["GUID"] = GUID,
        ["BusinessObjectType"] = BusinessObjectType,
        ["Name"] = Name,
        ["Fields"] = Fields.DeepClone(),
        ["LastUpdatedOn"] = LastUpdatedOn,
    };
}

/// An action waiting for its integration's callback; the generation tells a late timer from a re-trigger.
public sealed record PendingAction(Guid ActionGuid, long Generation, DateTimeOffset Deadline);

/// Everything the fake Enate holds. One lock: the traffic is small and the invariants span several maps.
public sealed class EnateState
{
    public readonly Lock Sync = new();
    public Dictionary<Guid, Packet> Packets { get; } = [];
    public Dictionary<Guid, EnateUser> Users { get; } = [];
    public Dictionary<string, DataList> DataLists { get; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<Guid, BusinessObject> BusinessObjects { get; } = [];
    public Dictionary<Guid, WebHookSubscription> Subscriptions { get; } = [];
    public Dictionary<Guid, PendingAction> PendingActions { get; } = [];
    private long _reference = 202233;
    private long _generation;

    public EnateState(SimulatedApps apps) => apps["enate"].OnReset(Reset);

    public string NextReference(int processType) => $"{++_reference}-{ProcessType.Suffix(processType)}";
    public long NextGeneration() => ++_generation;

    private void Reset()
    {
        lock (Sync)
        {
            Packets.Clear();
            Users.Clear();
            DataLists.Clear();
            BusinessObjects.Clear();
            Subscriptions.Clear();
            PendingActions.Clear();
            _reference = 202233;
        }
    }

    public static void Merge(JsonObject target, JsonObject? changes)
    {
        if (changes is null) return;
        foreach (var (name, value) in changes) target[name] = value?.DeepClone();
    }
}
