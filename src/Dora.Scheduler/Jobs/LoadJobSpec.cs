using System.Text.Json;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Units;

namespace Dora.Scheduler.Jobs;

/// <summary>
/// What a <c>load</c> job is asked to do (docs/scheduler.md): which files (a file, a directory, or a path with
/// wildcards, narrowed by a glob or a regex), which parts of them (only some Parquet columns), and how (skip what is
/// cached, verify afterwards, a bandwidth cap, how many failed files fail the job).
/// </summary>
public sealed record LoadJobSpec
{
    /// <summary>Default size of one task's byte range: 64 MiB.</summary>
    public const long DefaultRangeBytes = 64L << 20;

    /// <summary>Most columns a request may name.</summary>
    public const int MaxColumns = 10_000;

    /// <summary>The path as given (a file, a directory, or a pattern with <c>*</c>, <c>**</c>, <c>?</c>).</summary>
    public required string Path { get; init; }

    public bool Recursive { get; init; } = true;

    /// <summary>A glob files must match: against the file name when it has no <c>/</c>, else against the path below the root.</summary>
    public string? Filter { get; init; }

    /// <summary>A regular expression the file's full path must match.</summary>
    public string? FilterRegex { get; init; }

    /// <summary>Parquet columns to load (dotted paths); null loads whole files.</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>
    /// True (the default): ranges whose pages are all cached are not fetched again and count as skipped. False: every
    /// page is fetched anew from the under storage, refreshing what is cached.
    /// </summary>
    public bool SkipIfCached { get; init; } = true;

    public bool Verify { get; init; }

    /// <summary>Bytes per second across the whole job; null for no limit.</summary>
    public long? Bandwidth { get; init; }

    /// <summary>The job fails once more files than this have failed (0: any failed file fails it).</summary>
    public int MaxFailedFiles { get; init; }

    /// <summary>Largest byte range one task loads.</summary>
    public long RangeBytes { get; init; } = DefaultRangeBytes;

    /// <summary>Reads a request body: <c>{"type":"load","path":...,options}</c>.</summary>
    /// <exception cref="JobSpecException">A field is missing, has the wrong type, or an invalid value.</exception>
    public static LoadJobSpec Parse(ReadOnlySpan<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new JobSpecException("body", "the body is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new JobSpecException("body", $"the body is not valid JSON: {e.Message}");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JobSpecException("body", "the body must be a JSON object");
            }

            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (!KnownFields.Contains(property.Name))
                {
                    throw new JobSpecException(property.Name, $"unknown field '{property.Name}'; known: {string.Join(", ", KnownFields)}");
                }
            }

            string type = String(root, "type") ?? throw new JobSpecException("type", "\"type\" is required (\"load\")");
            if (type != "load")
            {
                throw new JobSpecException("type", $"unknown job type '{type}'; the scheduler runs \"load\" jobs");
            }

            var spec = new LoadJobSpec
            {
                Path = String(root, "path") ?? throw new JobSpecException("path", "\"path\" is required"),
                Recursive = Bool(root, "recursive") ?? true,
                Filter = String(root, "filter"),
                FilterRegex = String(root, "filterRegex"),
                Columns = ReadColumns(root),
                SkipIfCached = Bool(root, "skipIfCached") ?? true,
                Verify = Bool(root, "verify") ?? false,
                Bandwidth = Bytes(root, "bandwidth"),
                MaxFailedFiles = (int)(Whole(root, "maxFailedFiles", 0, int.MaxValue) ?? 0),
                RangeBytes = Bytes(root, "rangeBytes") ?? DefaultRangeBytes,
            };
            spec.Validate();
            return spec;
        }
    }

    private static readonly string[] KnownFields =
        ["type", "path", "recursive", "filter", "filterRegex", "columns", "skipIfCached", "verify", "bandwidth", "maxFailedFiles", "rangeBytes"];

    /// <summary>Checks the values (also after a spec is built in code or read back from the job store).</summary>
    public void Validate()
    {
        try
        {
            _ = Planning.PathPattern.Parse(Path);
        }
        catch (InvalidPathException e)
        {
            throw new JobSpecException("path", e.Message);
        }

        if (Filter is not null && FilterRegex is not null)
        {
            throw new JobSpecException("filter", "give \"filter\" (a glob) or \"filterRegex\", not both");
        }

        if (Filter is { Length: 0 })
        {
            throw new JobSpecException("filter", "\"filter\" must not be empty");
        }

        if (FilterRegex is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(FilterRegex, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new JobSpecException("filterRegex", $"\"filterRegex\" is not a valid regular expression: {e.Message}");
            }
        }

        if (Columns is { Count: 0 })
        {
            throw new JobSpecException("columns", "\"columns\" must name at least one column (omit it to load whole files)");
        }

        if (Bandwidth is <= 0)
        {
            throw new JobSpecException("bandwidth", "\"bandwidth\" must be a positive number of bytes per second");
        }

        if (RangeBytes is < 4096 or > (1L << 30))
        {
            throw new JobSpecException("rangeBytes", "\"rangeBytes\" must be between 4 KiB and 1 GiB");
        }
    }

    private static string? String(JsonElement root, string name) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new JobSpecException(name, $"\"{name}\" must be a string");

    private static bool? Bool(JsonElement root, string name) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : throw new JobSpecException(name, $"\"{name}\" must be true or false");

    private static long? Whole(JsonElement root, string name, long min, long max) =>
        !root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number) && number >= min && number <= max ? number
        : throw new JobSpecException(name, $"\"{name}\" must be a whole number from {min} to {max}");

    /// <summary>A byte count: a number, or a string with a unit ("200MiB").</summary>
    private static long? Bytes(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number))
        {
            return number;
        }

        return value.ValueKind == JsonValueKind.String && ByteSize.TryParse(value.GetString(), out long bytes)
            ? bytes
            : throw new JobSpecException(name, $"\"{name}\" must be a number of bytes or a size such as \"200MiB\"");
    }

    private static List<string>? ReadColumns(JsonElement root)
    {
        if (!root.TryGetProperty("columns", out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > MaxColumns)
        {
            throw new JobSpecException("columns", $"\"columns\" must be an array of at most {MaxColumns} column names");
        }

        var columns = new List<string>();
        foreach (JsonElement column in value.EnumerateArray())
        {
            columns.Add(column.ValueKind == JsonValueKind.String && column.GetString() is { Length: > 0 } name
                ? name
                : throw new JobSpecException("columns", "every entry of \"columns\" must be a non-empty string"));
        }

        return columns;
    }
}
