using System.Globalization;
using System.Text.RegularExpressions;
using Enate.Simulators.Common;

namespace Enate.Simulators.Payroll;

public sealed record PayrollLine(string EmployeeId, string Period, decimal GrossPay, string Currency);

public sealed record PayrollBatch(string BatchId, string? FileName, int Rows, PayrollLine[] Lines, DateTimeOffset ReceivedAt);

public sealed record RowError(int Row, int Line, string? Field, string Message);

/// A payroll system that takes batches in its own CSV upload format (pattern 4: transform within a process).
public sealed partial class PayrollState
{
    public const string ApiKey = "sim-payroll-key";
    public const string Header = "employee_id,period,gross_pay,currency";
    private readonly Lock _sync = new();
    private readonly Dictionary<string, PayrollBatch> _batches = [];

    public PayrollState(SimulatedApps apps) => apps["payroll"].OnReset(() =>
    {
        lock (_sync) _batches.Clear();
    });

    public sealed record Upload(string? FileName, string? Content);

    public static void Map(IEndpointRouteBuilder routes)
    {
        var payroll = routes.MapGroup("/payroll").WithTags("Payroll").RequireApiKey(ApiKey);
        payroll.MapPost("/batches", async (HttpRequest request, PayrollState state, TimeProvider clock) =>
        {
            string? fileName = null;
            string csv;
            var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (mediaType is "text/csv" or "text/plain")
            {
                using var reader = new StreamReader(request.Body);
                csv = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
            }
            else if (mediaType is "application/json")
            {
                Upload? upload;
                try
                {
                    upload = await request.ReadFromJsonAsync<Upload>(request.HttpContext.RequestAborted);
                }
                catch (System.Text.Json.JsonException)
                {
                    return Problems.BadRequest("The JSON body is malformed; send {\"fileName\", \"content\"}.");
                }
                if (upload?.Content is null) return Problems.BadRequest("content (the CSV text) is required.");
                (fileName, csv) = (upload.FileName, upload.Content);
            }
            else
            {
                return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                    detail: "Send text/csv, or application/json {\"fileName\", \"content\"}.");
            }

            var (lines, errors) = Parse(csv);
            if (errors.Count > 0)
            {
                return Problems.BadRequest($"The batch has {errors.Count} error(s); nothing was imported.", errors);
            }
            var batch = new PayrollBatch($"B-{Guid.NewGuid():N}"[..14], fileName, lines.Count, [.. lines], clock.GetUtcNow());
            lock (state._sync) state._batches[batch.BatchId] = batch;
            return Results.Created($"/payroll/batches/{batch.BatchId}", new { batch.BatchId, batch.Rows });
        }).IsSideEffect();

        payroll.MapGet("/batches/{id}", (string id, PayrollState state) =>
        {
            lock (state._sync) return state._batches.TryGetValue(id, out var b) ? Results.Ok(b) : Problems.NotFound($"No batch {id}.");
        });
    }

    /// Checks the upload format; rows are numbered from 1 after the header, lines from 1 including it.
    public static (List<PayrollLine> Lines, List<RowError> Errors) Parse(string csv)
    {
        var lines = new List<PayrollLine>();
        var errors = new List<RowError>();
        var text = csv.TrimStart('\uFEFF').Replace("\r\n", "\n").TrimEnd('\n');
        var rows = text.Length == 0 ? [] : text.Split('\n');
        if (rows.Length == 0 || rows[0].Trim() != Header)
        {
            errors.Add(new RowError(0, 1, null, $"The first line must be exactly '{Header}'."));
            return (lines, errors);
        }
        if (rows.Length == 1) errors.Add(new RowError(0, 1, null, "The batch has no rows."));
        for (var i = 1; i < rows.Length; i++)
        {
            var (row, line) = (i, i + 1);
            var fields = rows[i].Split(',');
            if (fields.Length != 4)
            {
                errors.Add(new RowError(row, line, null, $"Expected 4 fields, found {fields.Length}."));
                continue;
            }
            var (employeeId, period, grossPay, currency) = (fields[0].Trim(), fields[1].Trim(), fields[2].Trim(), fields[3].Trim());
            var before = errors.Count;
            if (employeeId.Length == 0) errors.Add(new RowError(row, line, "employee_id", "employee_id is empty."));
            if (!Period().IsMatch(period)) errors.Add(new RowError(row, line, "period", $"period '{period}' is not YYYY-MM."));
            if (!decimal.TryParse(grossPay, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                errors.Add(new RowError(row, line, "gross_pay", $"gross_pay '{grossPay}' is not a non-negative decimal with a '.' separator."));
            }
            if (!Currency().IsMatch(currency)) errors.Add(new RowError(row, line, "currency", $"currency '{currency}' is not a 3-letter ISO code."));
            if (errors.Count == before) lines.Add(new PayrollLine(employeeId, period, amount, currency));
        }
        return (lines, errors);
    }

    [GeneratedRegex(@"^\d{4}-(0[1-9]|1[0-2])$")]
    private static partial Regex Period();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex Currency();
}
