using System.Data;
using System.Text.Json;
using System.Text.Json.Nodes;
using MiniExcelLibs;
using Sylvan.Data.Csv;

namespace Enate.Domain.Transforms;

/// CSV (Sylvan) and XLSX (MiniExcel) to and from arrays of row objects keyed by the header row.
public static class Formats
{
    public static JsonArray ReadCsv(string text, char delimiter = ',')
    {
        try
        {
            using var reader = CsvDataReader.Create(new StringReader(text), new CsvDataReaderOptions { Delimiter = delimiter });
            var rows = new JsonArray();
            while (reader.Read())
            {
                var row = new JsonObject();
                for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = reader.GetString(i);
                rows.Add(row);
            }
            return rows;
        }
        catch (Exception ex) when (ex is not TransformException)
        {
            throw new TransformException("csv", text.Length > 60 ? text[..60] : text, null, null, ex.Message);
        }
    }

    public static string WriteCsv(JsonArray rows, char delimiter = ',')
    {
        using var table = ToTable(rows);
        using var text = new StringWriter();
        using (var writer = CsvDataWriter.Create(text, new CsvDataWriterOptions { Delimiter = delimiter }))
        {
            writer.Write(table.CreateDataReader());
        }
        return text.ToString();
    }

    public static JsonArray ReadXlsx(byte[] workbook, string? sheet = null)
    {
        try
        {
            using var stream = new MemoryStream(workbook);
            var rows = new JsonArray();
            foreach (IDictionary<string, object?> source in stream.Query(useHeaderRow: true, sheetName: sheet))
            {
                var row = new JsonObject();
                foreach (var (name, value) in source) row[name] = value is null ? null : JsonSerializer.SerializeToNode(value);
                rows.Add(row);
            }
            return rows;
        }
        catch (Exception ex) when (ex is not TransformException)
        {
            throw new TransformException("xlsx", sheet ?? "(first sheet)", null, null, ex.Message);
        }
    }

    public static byte[] WriteXlsx(JsonArray rows, string sheet = "Sheet1")
    {
        var columns = Columns(rows);
        var data = rows.OfType<JsonObject>()
            .Select(row => (IDictionary<string, object?>)columns.ToDictionary(c => c, c => Scalar(row[c])))
            .ToList();
        using var stream = new MemoryStream();
        stream.SaveAs(data, sheetName: sheet);
        return stream.ToArray();
    }

    private static DataTable ToTable(JsonArray rows)
    {
        var table = new DataTable();
        foreach (var column in Columns(rows)) table.Columns.Add(column, typeof(string));
        foreach (var row in rows.OfType<JsonObject>())
        {
            table.Rows.Add(table.Columns.Cast<DataColumn>().Select(c => (object?)Text(row[c.ColumnName]) ?? DBNull.Value).ToArray());
        }
        return table;
    }

    // Columns in the order they are first seen, over all rows.
    private static List<string> Columns(JsonArray rows) =>
        rows.OfType<JsonObject>().SelectMany(r => r.Select(p => p.Key)).Distinct().ToList();

    private static string? Text(JsonNode? value) => value switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(),
    };

    private static object? Scalar(JsonNode? value) => value switch
    {
        null => null,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => decimal.Parse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        },
        _ => value.ToJsonString(),
    };
}
