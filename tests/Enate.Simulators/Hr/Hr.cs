using Enate.Simulators.Common;

namespace Enate.Simulators.Hr;

public sealed record Employee(string Id, string FirstName, string LastName, string Email, string? Department, DateOnly? StartDate);

public sealed record EmployeeDocument(string Id, string EmployeeId, string Kind, string FileName, int Size, DateTimeOffset? SignedAt,
    DateTimeOffset UploadedAt);

/// An HR system (pattern 2: an onboarded employee becomes an Enate user; pattern 1: a signed contract is filed back).
public sealed class HrState
{
    public const string ApiKey = "sim-hr-key";
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Employee> _employees = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<EmployeeDocument> _documents = [];
    private long _next = 100;

    public HrState(SimulatedApps apps) => apps["hr"].OnReset(() =>
    {
        lock (_sync)
        {
            _employees.Clear();
            _documents.Clear();
            _next = 100;
        }
    });

    public sealed record Onboard(string? Id, string? FirstName, string? LastName, string? Email, string? Department, DateOnly? StartDate,
        int? Duplicates, bool? BadSignature) : IEventOptions;

    public sealed record ContractUpload(string? FileName, string? ContentBase64, DateTimeOffset? SignedAt);

    public static void Map(IEndpointRouteBuilder routes)
    {
        var hr = routes.MapGroup("/hr").WithTags("HR").RequireApiKey(ApiKey);
        hr.MapGet("/employees", (HrState state) =>
        {
            lock (state._sync) return Results.Ok(state._employees.Values.ToArray());
        });
        hr.MapGet("/employees/{id}", (string id, HrState state) =>
        {
            lock (state._sync) return state._employees.TryGetValue(id, out var e) ? Results.Ok(e) : Problems.NotFound($"No employee {id}.");
        });
        hr.MapPost("/employees/{id}/contract", (string id, ContractUpload body, HrState state, TimeProvider clock) =>
        {
            if (string.IsNullOrWhiteSpace(body.FileName)) return Problems.BadRequest("fileName is required.");
            byte[] content;
            try
            {
                content = Convert.FromBase64String(body.ContentBase64 ?? "");
            }
            catch (FormatException)
            {
                return Problems.BadRequest("contentBase64 is not valid base64.");
            }
            if (content.Length == 0) return Problems.BadRequest("contentBase64 is required and must not be empty.");
            lock (state._sync)
            {
                if (!state._employees.ContainsKey(id)) return Problems.NotFound($"No employee {id}.");
                var document = new EmployeeDocument($"doc-{Guid.NewGuid():N}", id, "contract", body.FileName, content.Length, body.SignedAt, clock.GetUtcNow());
                state._documents.Add(document);
                return Results.Created($"/hr/employees/{id}/documents/{document.Id}", document);
            }
        }).IsSideEffect();
        hr.MapGet("/employees/{id}/documents", (string id, HrState state) =>
        {
            lock (state._sync)
            {
                return state._employees.ContainsKey(id)
                    ? Results.Ok(state._documents.Where(d => string.Equals(d.EmployeeId, id, StringComparison.OrdinalIgnoreCase)).ToArray())
                    : Problems.NotFound($"No employee {id}.");
            }
        });

        routes.MapPost("/_sim/hr/employees", (Onboard body, HttpResponse response, HrState state, SimulatedApps apps, StandardWebhooks webhooks) =>
        {
            if (string.IsNullOrWhiteSpace(body.FirstName) || string.IsNullOrWhiteSpace(body.LastName) || string.IsNullOrWhiteSpace(body.Email))
            {
                return Problems.BadRequest("firstName, lastName and email are required.");
            }
            Employee employee;
            lock (state._sync)
            {
                var id = body.Id ?? $"E{++state._next}";
                if (state._employees.ContainsKey(id)) return Problems.Conflict($"Employee {id} exists.");
                employee = new Employee(id, body.FirstName, body.LastName, body.Email, body.Department, body.StartDate);
                state._employees[id] = employee;
            }
            response.Headers[StandardWebhooks.MessageIdHeader] = webhooks.Publish(apps["hr"], "employee.onboarded", employee, body);
            return Results.Created($"/hr/employees/{employee.Id}", employee);
        }).WithTags("HR simulation");
    }
}
