using System.Text.Json;
using Enate.Simulators.Common;

namespace Enate.Simulators.Erp;

public sealed record PurchaseOrderLine(string Sku, string Description, decimal Quantity, decimal UnitPrice);

public sealed record PurchaseOrder(string Number, string Supplier, decimal Total, string Currency, PurchaseOrderLine[] Lines, string Status);

public sealed record ExceptionType(string Code, string Description);

/// An SAP-like ERP (pattern 1: purchase order details into an accounts-payable case; pattern 2: exception types
/// synchronised into an Enate data list).
public sealed class ErpState
{
    public const string User = "erp", Password = "sim-erp-pass";
    private readonly Lock _sync = new();
    private readonly Dictionary<string, PurchaseOrder> _orders = new(StringComparer.OrdinalIgnoreCase);
    private ExceptionType[] _exceptionTypes = [];

    public ErpState(SimulatedApps apps)
    {
        Seed();
        apps["erp"].OnReset(Seed);
    }

    private void Seed()
    {
        lock (_sync)
        {
            _orders.Clear();
            Add(new PurchaseOrder("PO-1001", "Acme Supplies Ltd", 0, "GBP",
                [new("SKU-100", "A4 paper, box of 5 reams", 10, 21.50m), new("SKU-200", "Toner cartridge", 2, 64.00m)], "approved"));
            Add(new PurchaseOrder("PO-1002", "Globex Logistics", 0, "EUR",
                [new("SRV-10", "Freight, London to Rotterdam", 1, 1250.00m)], "received"));
            Add(new PurchaseOrder("PO-1003", "Initech Software", 0, "USD",
                [new("LIC-1", "Annual licence", 25, 120.00m), new("SUP-1", "Premium support", 1, 900.00m)], "open"));
            _exceptionTypes =
            [
                new("PRICE", "Price mismatch between invoice and purchase order"),
                new("QTY", "Quantity mismatch between invoice and goods receipt"),
                new("NOPO", "No purchase order found"),
            ];
        }
    }

    private void Add(PurchaseOrder order) =>
        _orders[order.Number] = order with { Total = order.Lines.Sum(l => l.Quantity * l.UnitPrice) };

    public sealed record ExceptionTypesChange(ExceptionType[]? ExceptionTypes, int? Duplicates, bool? BadSignature) : IEventOptions;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var erp = routes.MapGroup("/erp").WithTags("ERP").RequireBasic(User, Password);
        erp.MapGet("/purchase-orders/{number}", (string number, ErpState state) =>
        {
            lock (state._sync) return state._orders.TryGetValue(number, out var o) ? Results.Ok(o) : Problems.NotFound($"No purchase order {number}.");
        });
        erp.MapGet("/exception-types", (ErpState state) =>
        {
            lock (state._sync) return Results.Ok(state._exceptionTypes);
        });

        var sim = routes.MapGroup("/_sim/erp").WithTags("ERP simulation");
        sim.MapPut("/exception-types", async (HttpRequest request, HttpResponse response, ErpState state, SimulatedApps apps, StandardWebhooks webhooks) =>
        {
            // Either a bare array or {"exceptionTypes": [...], "duplicates"?, "badSignature"?}.
            ExceptionTypesChange? change;
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body);
                var web = new JsonSerializerOptions(JsonSerializerDefaults.Web);
                change = document.RootElement.ValueKind == JsonValueKind.Array
                    ? new ExceptionTypesChange(document.RootElement.Deserialize<ExceptionType[]>(web), null, null)
                    : document.RootElement.Deserialize<ExceptionTypesChange>(web);
            }
            catch (JsonException)
            {
                return Problems.BadRequest("Send a JSON array of {code, description} or {\"exceptionTypes\": [...]}.");
            }
            if (change?.ExceptionTypes is not { } types || types.Any(t => string.IsNullOrWhiteSpace(t?.Code)))
            {
                return Problems.BadRequest("Every exception type needs a code.");
            }
            lock (state._sync) state._exceptionTypes = types;
            response.Headers[StandardWebhooks.MessageIdHeader] =
                webhooks.Publish(apps["erp"], "exceptionTypes.changed", new { count = types.Length }, change);
            return Results.Ok(types);
        });
        sim.MapPut("/purchase-orders/{number}", (string number, PurchaseOrder order, ErpState state) =>
        {
            if (order.Lines is null || order.Lines.Length == 0) return Problems.BadRequest("lines are required.");
            lock (state._sync)
            {
                state.Add(order with { Number = number, Status = order.Status ?? "open" });
                return Results.Ok(state._orders[number]);
            }
        });
    }
}
