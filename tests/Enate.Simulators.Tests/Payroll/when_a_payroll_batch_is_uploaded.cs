using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Enate.Simulators.Tests.Payroll;

public sealed class when_a_payroll_batch_is_uploaded(SimulatorFixture sim) : IClassFixture<SimulatorFixture>
{
    private async Task<HttpResponseMessage> UploadAsync(HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/payroll/batches") { Content = content };
        request.Headers.Add("X-Api-Key", "sim-payroll-key");
        return await sim.Client.SendAsync(request);
    }

    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    [Fact]
    public async Task a_valid_csv_is_imported()
    {
        using var response = await UploadAsync(Csv("employee_id,period,gross_pay,currency\r\nE100,2025-01,3250.00,GBP\r\nE101,2025-01,4100.5,GBP\r\n"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(2, created["rows"]!.GetValue<int>());
        using var get = new HttpRequestMessage(HttpMethod.Get, response.Headers.Location) { Headers = { { "X-Api-Key", "sim-payroll-key" } } };
        var batch = JsonNode.Parse(await (await sim.Client.SendAsync(get)).Content.ReadAsStringAsync())!;
        Assert.Equal(4100.5m, batch["lines"]![1]!["grossPay"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task the_json_form_carries_the_same_csv()
    {
        using var response = await UploadAsync(JsonContent.Create(new { fileName = "jan.csv", content = "employee_id,period,gross_pay,currency\nE1,2025-02,10,EUR" }));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task a_wrong_header_is_refused()
    {
        using var response = await UploadAsync(Csv("employee,period,gross,currency\nE1,2025-01,10,GBP"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("employee_id,period,gross_pay,currency", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task bad_rows_are_listed_and_nothing_is_imported()
    {
        await sim.ResetAsync("payroll");
        using var response = await UploadAsync(Csv("employee_id,period,gross_pay,currency\nE1,2025-01,10.00,GBP\nE2,2025-13,10.00,GBP\nE3,2025-01,1.000,00,GBP\n,2025-01,-5,gbp"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        Assert.Equal([2, 3, 4], errors.Select(e => e!["row"]!.GetValue<int>()).Distinct());
        Assert.Contains(errors, e => e!["row"]!.GetValue<int>() == 2 && e["field"]!.GetValue<string>() == "period");
        Assert.Contains(errors, e => e!["row"]!.GetValue<int>() == 4 && e["field"]!.GetValue<string>() == "currency");
        Assert.Contains(errors, e => e!["row"]!.GetValue<int>() == 4 && e["field"]!.GetValue<string>() == "gross_pay");
        var effects = await sim.GetJsonAsync("/_sim/payroll/effects");
        Assert.Null(effects["byKey"]!["(none)"]);
    }

    [Fact]
    public async Task another_media_type_is_415()
    {
        using var response = await UploadAsync(new StringContent("<batch/>", Encoding.UTF8, "application/xml"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
