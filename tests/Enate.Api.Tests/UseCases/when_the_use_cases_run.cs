using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enate.Domain.Runs;
using Enate.Domain.Transforms;
using Enate.Testing;

namespace Enate.Api.Tests.UseCases;

/// The nine use cases of Enate's iPaaS patterns, each end to end: the simulated app or Enate starts it, the
/// platform runs the shipped recipe, and the test asserts what the simulated peer ended up with, what the
/// platform recorded, and that no side effect happened twice.
public sealed class when_the_use_cases_run(AppFixture app) : AppTest(app)
{
    private UseCaseWorld _world = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _world = await UseCaseWorld.StartAsync(Api);
    }

    public override async Task DisposeAsync() => await _world.DisposeAsync();

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<JsonElement> Packet(Guid guid, Func<JsonElement, bool> until)
    {
        try
        {
            return await Eventually.Get(() => _world.EnateGet($"/Packet/{guid}"), until, Patience);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nRuns: {await _world.Runs()}");
        }
    }

    private async Task<RunSummary> OnlyRunOf(string recipe, string status = RunStatus.Succeeded)
    {
        var runs = await Eventually.Get(
            async () => (await _world.Api.GetFromJsonAsync<JsonElement>($"/api/v1/runs?recipe={recipe}")).GetProperty("items"),
            items => items.GetArrayLength() > 0 && items.EnumerateArray().All(r => RunStatus.IsFinished(r.GetProperty("status").GetString()!)),
            Patience);
        Assert.Equal(1, runs.GetArrayLength());
        var run = runs[0].Deserialize<RunSummary>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.True(run.Status == status, $"{recipe}: {run.Status} ({run.Reason})");
        return run;
    }

    [Fact]
    public async Task p1_a_hubspot_deal_becomes_onboarding_data_and_enate_is_called_back()
    {
        var deal = await _world.SimPost("/_sim/crm/deals", new
        {
            dealname = "Acme onboarding", amount = 12000, company = "Acme",
            contact = new { email = "jo@acme.example", firstname = "Jo", lastname = "Bloggs" },
        });
        var (action, status, _) = await _world.TriggerAction("hubspot-deal-onboarding", new { DealId = deal.GetProperty("id").ToString() });
        Assert.Equal(202, status);

        var closed = await Packet(action, p => p.GetProperty("Status").GetInt32() == 5);
        Assert.Equal("Done Successfully", closed.GetProperty("ResolutionReason").GetString());
        Assert.Equal("Acme onboarding", closed.GetProperty("CustomData").GetProperty("DealName").GetString());
        Assert.Equal("Jo Bloggs", closed.GetProperty("CustomData").GetProperty("ContactName").GetString());

        var run = await OnlyRunOf("hubspot-deal-onboarding");
        Assert.Equal("sent (success)", await CallbackOf(run.Id));
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p1_a_signed_contract_is_uploaded_to_the_hr_system()
    {
        var employee = await _world.SimPost("/_sim/hr/employees", new { firstName = "Ada", lastName = "Lovelace", email = "ada@example.com" });
        var id = employee.GetProperty("id").GetString()!;
        var pdf = Convert.ToBase64String(Encoding.UTF8.GetBytes("%PDF-1.7 signed"));
        var (_, status, _) = await _world.TriggerAction("signed-contract-to-hr", new { EmployeeId = id, SignedContract = pdf, ContractFileName = "ada.pdf" });
        Assert.Equal(202, status);

        var documents = await Eventually.Get(() => _world.Get($"/hr/employees/{id}/documents", "X-Api-Key", "sim-hr-key"),
            d => d.GetArrayLength() > 0, Patience);
        Assert.Equal("ada.pdf", documents[0].GetProperty("fileName").GetString());
        var run = await OnlyRunOf("signed-contract-to-hr");
        Assert.Null(await CallbackOf(run.Id));
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p1_a_purchase_order_lands_on_the_accounts_payable_case()
    {
        var apCase = await _world.SimPost("/enate/_sim/packets", new { processType = 1, title = "Invoice 778", customerName = "Acme" });
        var caseGuid = apCase.GetProperty("GUID").GetGuid();
        var (action, _, _) = await _world.TriggerAction("erp-po-to-ap-case", new { PONumber = "PO-1001" }, caseGuid);

        var updated = await Packet(caseGuid, p => p.GetProperty("CustomData").TryGetProperty("PONumber", out _));
        Assert.Equal("PO-1001", updated.GetProperty("CustomData").GetProperty("PONumber").GetString());
        Assert.Equal(343.00m, updated.GetProperty("CustomData").GetProperty("POTotal").GetDecimal());
        await Packet(action, p => p.GetProperty("Status").GetInt32() == 5);
        await OnlyRunOf("erp-po-to-ap-case");
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p2_a_new_crm_deal_opens_a_customer_onboarding_case()
    {
        await _world.SimPost("/_sim/crm/deals", new { dealname = "Globex expansion", amount = 50000, company = "Globex", duplicates = 2 });

        var cases = await Eventually.Get(() => _world.EnateGet("/Packet/Search?customerName=Globex&processType=1"),
            c => c.ValueKind == JsonValueKind.Array && c.GetArrayLength() > 0, Patience);
        await Task.Delay(500);
        cases = await _world.EnateGet("/Packet/Search?customerName=Globex&processType=1");
        Assert.Equal(1, cases.GetArrayLength());
        Assert.Equal("Customer onboarding: Globex expansion", cases[0].GetProperty("Title").GetString());
        Assert.Equal(50000, cases[0].GetProperty("CustomData").GetProperty("DealAmount").GetInt32());
        await OnlyRunOf("crm-deal-to-onboarding-case");
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p2_a_new_employee_becomes_an_enate_user()
    {
        await _world.SimPost("/_sim/hr/employees", new { firstName = "Grace", lastName = "Hopper", email = "grace@example.com", department = "Navy" });
        var users = await Eventually.Get(() => _world.EnateGet("/User?email=grace@example.com"), u => u.ValueKind == JsonValueKind.Array && u.GetArrayLength() > 0, Patience);
        Assert.Equal("Hopper", users[0].GetProperty("LastName").GetString());
        await OnlyRunOf("hr-employee-to-enate-user");
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p2_a_portal_message_notifies_the_owner_of_that_customers_case()
    {
        var ownCase = await _world.SimPost("/enate/_sim/packets", new { processType = 1, title = "Payroll queries", customerName = "Initech", ownerEmail = "owner@enate.example" });
        await _world.SimPost("/_sim/portal/messages", new { customer = "Initech", subject = "Where is my payslip?", body = "..." });

        var notified = await Packet(ownCase.GetProperty("GUID").GetGuid(), p => p.GetProperty("Notifications").GetArrayLength() > 0);
        Assert.Contains("Where is my payslip?", notified.GetProperty("Notifications")[0].ToString());
        await OnlyRunOf("portal-message-notify-owner");
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p2_erp_exception_types_fill_the_custom_card_list()
    {
        var response = await _world.Sim.PutAsJsonAsync("/_sim/erp/exception-types",
            new[] { new { code = "DUP", description = "Duplicate invoice" }, new { code = "TAX", description = "Tax mismatch" } });
        response.EnsureSuccessStatusCode();

        var list = await Eventually.Get(() => _world.EnateGet("/DataList/ExceptionTypes"),
            l => l.TryGetProperty("Entries", out var e) && e.GetArrayLength() == 2, Patience);
        Assert.Equal("DUP", list.GetProperty("Entries")[0].GetProperty("Value").GetString());
        Assert.Equal("Tax mismatch", list.GetProperty("Entries")[1].GetProperty("Label").GetString());
        await OnlyRunOf("erp-exception-types-to-card");
    }

    [Fact]
    public async Task p3_a_new_email_in_enate_reaches_the_client_portal_once()
    {
        var packet = await _world.SimPost("/enate/_sim/packets", new { processType = 1, title = "Statement", customerName = "Umbrella" });
        var guid = packet.GetProperty("GUID").GetGuid();
        await _world.SimPost("/enate/_sim/communications", new
        {
            packetGuid = guid, from = "agent@enate.example", subject = "Your statement", body = "Attached.", communicationType = "Email", duplicates = 2,
        });
        await _world.SimPost("/enate/_sim/communications", new { packetGuid = guid, from = "agent@enate.example", subject = "Internal", body = "n/a", communicationType = "Note" });

        var messages = await Eventually.Get(() => _world.Get("/portal/messages?customer=Umbrella", "Authorization", "Bearer sim-portal-token"),
            m => m.GetArrayLength() > 0, Patience);
        await Task.Delay(1000);
        messages = await _world.Get("/portal/messages?customer=Umbrella", "Authorization", "Bearer sim-portal-token");
        Assert.Equal(1, messages.GetArrayLength());
        Assert.Equal("Your statement", messages[0].GetProperty("subject").GetString());
        var run = await OnlyRunOf("enate-email-to-portal");
        Assert.Equal(packet.GetProperty("Reference").GetString(), run.WorkItem);
        var inbound = await _world.Api.GetFromJsonAsync<JsonElement>("/api/v1/inbound?trigger=enateWebhook&verdict=duplicate");
        Assert.True(inbound.GetProperty("items").GetArrayLength() >= 1, "Enate's repeated deliveries are recorded as duplicates");
        Assert.Empty(await _world.DoubledEffects());
    }

    [Fact]
    public async Task p4_a_payroll_spreadsheet_becomes_an_upload_and_the_result_goes_back_to_enate()
    {
        var sheet = Formats.WriteXlsx(new JsonArray(
            new JsonObject { ["Employee Number"] = "E100", ["Pay Period"] = "2025-01", ["Gross Salary"] = "3250.00", ["Currency"] = "gbp" },
            new JsonObject { ["Employee Number"] = "E101", ["Pay Period"] = "2025-01", ["Gross Salary"] = "4100.50", ["Currency"] = "gbp" }));
        var (action, _, _) = await _world.TriggerAction("payroll-spreadsheet", new { PayrollFile = Convert.ToBase64String(sheet) });

        var closed = await Packet(action, p => p.GetProperty("Status").GetInt32() == 5);
        var batchId = closed.GetProperty("CustomData").GetProperty("PayrollBatchId").ToString();
        var batch = await _world.Get($"/payroll/batches/{batchId}", "X-Api-Key", "sim-payroll-key");
        Assert.Equal(2, batch.GetProperty("rows").GetInt32());
        Assert.Equal("GBP", batch.GetProperty("lines")[1].GetProperty("currency").GetString());
        Assert.Equal(4100.50m, batch.GetProperty("lines")[1].GetProperty("grossPay").GetDecimal());
        await OnlyRunOf("payroll-spreadsheet");
        Assert.Empty(await _world.DoubledEffects());
    }

    private async Task<string?> CallbackOf(Guid runId)
    {
        var run = await Eventually.Get(async () => (await _world.Api.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}")),
            r => r.TryGetProperty("callback", out var c) && c.ValueKind != JsonValueKind.Null || r.GetProperty("recipeKey").GetString() == "signed-contract-to-hr",
            Patience);
        return run.TryGetProperty("callback", out var callback) ? callback.GetString() : null;
    }
}
