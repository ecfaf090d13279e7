using Enate.Simulators.Common;

namespace Enate.Simulators.Crm;

public sealed record Contact(string? Email, string? Firstname, string? Lastname);

public sealed record Deal(string Id, string Dealname, decimal? Amount, string? Dealstage, string? Company, Contact Contact,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// A HubSpot-like CRM (pattern 2: a new deal starts a customer onboarding case in Enate).
public sealed class CrmState
{
    public const string Token = "sim-crm-token";
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Deal> _deals = [];
    private long _next = 1000;

    public CrmState(SimulatedApps apps) => apps["crm"].OnReset(() =>
    {
        lock (_sync)
        {
            _deals.Clear();
            _next = 1000;
        }
    });

    public sealed record CreateDeal(string? Id, string? Dealname, decimal? Amount, string? Dealstage, string? Company, Contact? Contact,
        int? Duplicates, bool? BadSignature) : IEventOptions;

    public sealed record ChangeDeal(string? Dealname, decimal? Amount, string? Dealstage, string? Company, Contact? Contact);

    public static void Map(IEndpointRouteBuilder routes)
    {
        var crm = routes.MapGroup("/crm").WithTags("CRM").RequireBearer(Token);
        crm.MapGet("/deals", (CrmState state) =>
        {
            lock (state._sync) return Results.Ok(state._deals.Values.OrderBy(d => d.CreatedAt).ToArray());
        });
        crm.MapGet("/deals/{id}", (string id, CrmState state) =>
        {
            lock (state._sync) return state._deals.TryGetValue(id, out var deal) ? Results.Ok(deal) : Problems.NotFound($"No deal {id}.");
        });
        crm.MapPatch("/deals/{id}", (string id, ChangeDeal body, CrmState state, TimeProvider clock) =>
        {
            lock (state._sync)
            {
                if (!state._deals.TryGetValue(id, out var deal)) return Problems.NotFound($"No deal {id}.");
                deal = deal with
                {
                    Dealname = body.Dealname ?? deal.Dealname,
                    Amount = body.Amount ?? deal.Amount,
                    Dealstage = body.Dealstage ?? deal.Dealstage,
                    Company = body.Company ?? deal.Company,
                    Contact = body.Contact is { } c
                        ? new Contact(c.Email ?? deal.Contact.Email, c.Firstname ?? deal.Contact.Firstname, c.Lastname ?? deal.Contact.Lastname)
                        : deal.Contact,
                    UpdatedAt = clock.GetUtcNow(),
                };
                state._deals[id] = deal;
                return Results.Ok(deal);
            }
        }).IsSideEffect();

        routes.MapPost("/_sim/crm/deals", (CreateDeal body, HttpResponse response, CrmState state, SimulatedApps apps, StandardWebhooks webhooks, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.Dealname)) return Problems.BadRequest("dealname is required.");
            Deal deal;
            lock (state._sync)
            {
                var id = body.Id ?? (++state._next).ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (state._deals.ContainsKey(id)) return Problems.Conflict($"Deal {id} exists.");
                deal = new Deal(id, body.Dealname, body.Amount, body.Dealstage ?? "appointmentscheduled", body.Company,
                    body.Contact ?? new Contact(null, null, null), clock.GetUtcNow(), clock.GetUtcNow());
                state._deals[id] = deal;
            }
            response.Headers[StandardWebhooks.MessageIdHeader] = webhooks.Publish(apps["crm"], "deal.created", deal, body);
            return Results.Created($"/crm/deals/{deal.Id}", deal);
        }).WithTags("CRM simulation");
    }
}
