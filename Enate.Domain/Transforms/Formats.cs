using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MiniExcelLibs;
using Sylvan.Data.Csv;

namespace Enate.Domain.Transforms;

/// Files partners send and expect: CSV and XLSX, read as rows of objects keyed by the header row.
public static class Formats
{
    public static JsonArray ReadCsv(string text, char delimiter = ',', TransformBudget? budget = null)
    {
        budget ??= TransformBudget.Default();
        var limits = budget.Limits;
        var options = new CsvDataReaderOptions
        {
            Delimiter = delimiter,
            HasHeaders = true,
            // One long field (a description, an address block) must not fail the whole file.
            MaxBufferSize = 16 * 1024 * 1024,
        };
        var rows = new JsonArray();
        try
        {
            using var reader = CsvDataReader.Create(new StringReader(text.TrimStart('\uFEFF')), options);
            var headers = Headers(reader, text);
            Table.CheckColumns("csv", headers.Length, limits);
            while (reader.Read())
            {
                Table.CheckRow("csv", rows.Count + 1, headers.Length, budget);
                if (reader.RowFieldCount > headers.Length)
                    throw new TransformException("csv", text, reader.RowNumber + 1, null,
                        $"the row has {reader.RowFieldCount} fields but the header has {headers.Length}");
                var row = new JsonObject();
                for (var i = 0; i < headers.Length; i++)
                    // A short row means its last fields are empty, as spreadsheets write them.
                    row[headers[i]] = i < reader.RowFieldCount ? Table.Cell("csv", reader.GetString(i), limits) : "";
                rows.Add(row);
            }
        }
        catch (CsvFormatException e)
        {
            throw new TransformException("csv", text, e.RowNumber + 1, e.FieldOrdinal + 1, e.Message, e);
        }
        return rows;
    }

    private static string[] Headers(CsvDataReader reader, string text)
    {
        var headers = new string[reader.FieldCount];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < headers.Length; i++)
        {
            headers[i] = reader.GetName(i);
            if (!seen.Add(headers[i]))
                throw new TransformException("csv", text, 1, i + 1, $"the header '{headers[i]}' appears twice");
        }
        return headers;
    }

    /// Columns are every key of every row, in the order first seen.
    public static string WriteCsv(JsonArray rows, char delimiter = ',', TransformBudget? budget = null)
    {
        budget ??= TransformBudget.Default();
        var columns = Columns(rows);
        Table.CheckColumns("csv", columns.Count, budget.Limits);
        Table.CheckRow("csv", rows.Count, columns.Count, budget);
        var csv = new StringBuilder();
        AppendLine(csv, columns, delimiter);
        foreach (var row in rows)
        {
            var obj = row as JsonObject;
            AppendLine(csv, columns.Select(column => obj is not null && obj.TryGetPropertyValue(column, out var value) ? Text(value) : ""), delimiter);
        }
        return csv.ToString();
    }

    private static void AppendLine(StringBuilder csv, IEnumerable<string> fields, char delimiter)
    {
        var first = true;
        foreach (var field in fields)
        {
            if (!first) csv.Append(delimiter);
            first = false;
            // RFC 4180: quote a field holding the delimiter, a quote or a line break, and double its quotes.
            if (field.AsSpan().IndexOfAny([delimiter, '"', '\r', '\n']) >= 0)
                csv.Append('"').Append(field.Replace("\"", "\"\"")).Append('"');
            else
                csv.Append(field);
        }
        csv.Append("\r\n");
    }

    // A cell is text: strings as they are, other values as their JSON.
    private static string Text(JsonNode? value) => value switch
    {
        null => "",
        JsonValue scalar when scalar.GetValueKind() == JsonValueKind.String => JsonScalars.String(scalar),
        _ => value.ToJsonString(),
    };

    private static List<string> Columns(JsonArray rows)
    {
        var columns = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
            if (row is JsonObject obj)
                foreach (var (name, _) in obj)
                    if (seen.Add(name)) columns.Add(name);
        return columns;
    }

    /// The first sheet unless one is named; numbers and booleans keep their type, dates become ISO text.
    public static JsonArray ReadXlsx(byte[] workbook, string? sheet = null, TransformBudget? budget = null)
    {
        budget ??= TransformBudget.Default();
        var name = sheet ?? "(first sheet)";
        try
        {
            CheckDecompressedSize(workbook, name, budget.Limits);
            using var stream = new MemoryStream(workbook, writable: false);
            if (sheet is not null && !MiniExcel.GetSheetNames(stream).Contains(sheet))
                throw new TransformException("xlsx", name, null, null, $"the workbook has no sheet '{sheet}'");
            stream.Position = 0;

            var rows = new JsonArray();
            foreach (IDictionary<string, object?> cells in MiniExcel.Query(stream, useHeaderRow: true, sheetName: sheet, excelType: ExcelType.XLSX))
            {
                if (rows.Count == 0) Table.CheckColumns("xlsx", cells.Count, budget.Limits);
                Table.CheckRow("xlsx", rows.Count + 1, cells.Count, budget);
                var row = new JsonObject();
                foreach (var (column, value) in cells) row[column] = Cell(value is string text ? Table.Cell("xlsx", text, budget.Limits) : value);
                rows.Add(row);
            }
            return rows;
        }
        catch (Exception e) when (e is not TransformException)
        {
            throw new TransformException("xlsx", name, null, null, e.Message, e);
        }
    }

    /// A workbook is a zip: the sizes its entries declare are checked before anything is inflated, and an entry that
    /// inflates beyond what it declared fails the read (.NET's zip reader stops at the declared size).
    private static void CheckDecompressedSize(byte[] workbook, string name, TransformLimits limits)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(workbook, writable: false), System.IO.Compression.ZipArchiveMode.Read);
        var total = zip.Entries.Sum(e => e.Length);
        if (total > limits.MaxXlsxBytes)
            throw TransformBudget.Exceeded("xlsx", name, $"the workbook inflates to {total:N0} bytes, more than {limits.MaxXlsxBytes:N0}",
                nameof(TransformLimits.MaxXlsxBytes));
    }

    private static JsonNode? Cell(object? value) => value switch
    {
        null => null,
        string text => JsonValue.Create(text),
        bool flag => JsonValue.Create(flag),
        double number => JsonScalars.Number(number),
        decimal number => JsonScalars.Number(number),
        int number => JsonScalars.Number(number),
        long number => JsonScalars.Number(number),
        DateTime date => JsonValue.Create(date.ToString("o", System.Globalization.CultureInfo.InvariantCulture)),
        DateTimeOffset date => JsonValue.Create(date.ToString("o", System.Globalization.CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)),
    };

    public static byte[] WriteXlsx(JsonArray rows, string sheet = "Sheet1", TransformBudget? budget = null)
    {
        budget ??= TransformBudget.Default();
        var columns = Columns(rows);
        Table.CheckColumns("xlsx", columns.Count, budget.Limits);
        Table.CheckRow("xlsx", rows.Count, columns.Count, budget);
        var table = rows.Select(row =>
        {
            var obj = row as JsonObject;
            var cells = new Dictionary<string, object?>(columns.Count, StringComparer.Ordinal);
            foreach (var column in columns)
                cells[column] = obj is not null && obj.TryGetPropertyValue(column, out var value) ? CellValue(value) : null;
            return cells;
        }).ToList();

        try
        {
            using var stream = new MemoryStream();
            stream.SaveAs(table, sheetName: sheet, excelType: ExcelType.XLSX);
            return stream.ToArray();
        }
        catch (Exception e)
        {
            throw new TransformException("xlsx", sheet, null, null, e.Message, e);
        }
    }

    // Numbers and booleans stay typed so the spreadsheet can sum and filter them; objects go in as JSON text.
    private static object? CellValue(JsonNode? value) => value switch
    {
        null => null,
        JsonValue scalar => scalar.GetValueKind() switch
        {
            JsonValueKind.String => JsonScalars.String(scalar),
            JsonValueKind.Number => JsonScalars.TryDecimal(scalar, out var number) ? number : scalar.ToJsonString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        },
        _ => value.ToJsonString(),
    };
}

/// The limits every table read or written keeps to.
internal static class Table
{
    public static void CheckColumns(string kind, int columns, TransformLimits limits)
    {
        if (columns > limits.MaxColumns)
            throw TransformBudget.Exceeded(kind, kind + " file", $"it has {columns:N0} columns, more than {limits.MaxColumns:N0}", nameof(TransformLimits.MaxColumns));
    }

    /// Checks the row count, the cells so far and, every few hundred rows, the step's time.
    public static void CheckRow(string kind, int rows, int columns, TransformBudget budget)
    {
        var limits = budget.Limits;
        if (rows > limits.MaxRows)
            throw TransformBudget.Exceeded(kind, kind + " file", $"it has more than {limits.MaxRows:N0} rows", nameof(TransformLimits.MaxRows));
        if ((long)rows * columns > limits.MaxCells)
            throw TransformBudget.Exceeded(kind, kind + " file", $"it has more than {limits.MaxCells:N0} cells", nameof(TransformLimits.MaxCells));
        if (rows % 256 == 0) budget.CheckTime(kind, kind + " file");
    }

    public static string Cell(string kind, string text, TransformLimits limits) => text.Length <= limits.MaxCellBytes
        ? text
        : throw TransformBudget.Exceeded(kind, kind + " file", $"a cell holds {text.Length:N0} characters, more than {limits.MaxCellBytes:N0}",
            nameof(TransformLimits.MaxCellBytes));
}
