using System.Text.Json;

namespace Dora.Flight;

/// <summary>
/// Reads a ticket's JSON object field by field against what its kind takes (docs/flight.md): <c>range</c> takes
/// <c>path</c>, <c>offset</c>, <c>length</c>; <c>chunk</c> takes <c>path</c>, <c>rowGroup</c>, <c>column</c>;
/// <c>batches</c> takes <c>path</c>, <c>rowGroups</c>, <c>columns</c>. Every refusal names the field.
/// </summary>
internal static class TicketFields
{
    private static readonly Dictionary<string, string[]> FieldsOfKind = new(StringComparer.Ordinal)
    {
        ["range"] = ["kind", "path", "offset", "length"],
        ["chunk"] = ["kind", "path", "rowGroup", "column"],
        ["batches"] = ["kind", "path", "rowGroups", "columns"],
    };

    public static DoraTicket Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new TicketException($"the ticket must be a JSON object, not {Describe(root.ValueKind)}");
        }

        string kind = String(root, "kind") ?? throw new TicketException("the ticket has no \"kind\"; one of: range, chunk, batches");
        if (!FieldsOfKind.TryGetValue(kind, out string[]? allowed))
        {
            throw new TicketException($"unknown ticket kind '{kind}'; supported: range, chunk, batches");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonProperty field in root.EnumerateObject())
        {
            if (!seen.Add(field.Name))
            {
                throw new TicketException($"the ticket has \"{field.Name}\" twice");
            }

            if (!allowed.Contains(field.Name))
            {
                string owner = FieldsOfKind.FirstOrDefault(k => k.Value.Contains(field.Name)).Key;
                throw new TicketException(owner is null
                    ? $"the ticket has an unknown field \"{field.Name}\"; a {kind} ticket takes: {string.Join(", ", allowed)}"
                    : $"\"{field.Name}\" belongs to {owner} tickets; a {kind} ticket takes: {string.Join(", ", allowed)}");
            }
        }

        string path = String(root, "path") ?? throw new TicketException($"the {kind} ticket has no \"path\"");
        DoraTicket ticket = kind switch
        {
            "range" => new DoraTicket { Kind = kind, Path = path, Offset = Whole(root, "offset") ?? 0, Length = Whole(root, "length") },
            "chunk" => new DoraTicket
            {
                Kind = kind,
                Path = path,
                RowGroup = (int?)Whole(root, "rowGroup", int.MaxValue) ?? throw new TicketException("a chunk ticket needs \"rowGroup\" (and \"column\" for Parquet)"),
                Column = String(root, "column"),
            },
            _ => new DoraTicket { Kind = kind, Path = path, RowGroups = RowGroups(root), Columns = Columns(root) },
        };
        return ticket.Offset < 0 || ticket.Length < 0 || ticket.RowGroup < 0
            ? throw new TicketException($"\"{(ticket.Offset < 0 ? "offset" : ticket.Length < 0 ? "length" : "rowGroup")}\" must not be negative")
            : ticket;
    }

    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw WrongType(name, "a string", value);

    private static long? Whole(JsonElement root, string name, long max = long.MaxValue) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null : WholeNumber(value, name, max);

    private static long WholeNumber(JsonElement value, string name, long max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number) && number <= max
            ? number
            : throw WrongType(name, max == int.MaxValue ? "a whole number below 2^31" : "a whole number", value);

    private static List<int>? RowGroups(JsonElement root)
    {
        if (!root.TryGetProperty("rowGroups", out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        List<int> rowGroups = value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(item => (int)WholeNumber(item, "rowGroups", int.MaxValue))]
            : throw WrongType("rowGroups", "an array of row group numbers", value);
        return rowGroups.Any(r => r < 0) ? throw new TicketException("\"rowGroups\" must not hold negative numbers") : rowGroups;
    }

    private static List<string>? Columns(JsonElement root)
    {
        if (!root.TryGetProperty("columns", out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        List<string> columns = value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? item.GetString()! : throw WrongType("columns", "an array of column names", item))]
            : throw WrongType("columns", "an array of column names", value);
        return columns.Count == 0 ? throw new TicketException("a batches ticket with \"columns\" must name at least one column") : columns;
    }

    private static TicketException WrongType(string name, string expected, JsonElement value) =>
        new($"\"{name}\" must be {expected}, not {Describe(value.ValueKind)}{(value.ValueKind is JsonValueKind.Number or JsonValueKind.String ? $" ({Shorten(value.GetRawText())})" : string.Empty)}");

    private static string Shorten(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
