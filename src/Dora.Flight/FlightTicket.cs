using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dora.Flight;

/// <summary>
/// A Dora Flight ticket: UTF-8 JSON a person can type (docs/flight.md):
/// <c>{"kind":"range","path":"/p","offset":0,"length":1048576}</c> or
/// <c>{"kind":"chunk","path":"/p.parquet","rowGroup":0,"column":"fare"}</c>.
/// </summary>
public sealed record DoraTicket
{
    /// <summary>Largest ticket accepted, in bytes.</summary>
    public const int MaxBytes = 64 << 10;

    public required string Kind { get; init; }

    public required string Path { get; init; }

    public long Offset { get; init; }

    /// <summary>Bytes wanted; null means to the end of the file.</summary>
    public long? Length { get; init; }

    /// <summary>For <c>chunk</c>: the row group.</summary>
    public int? RowGroup { get; init; }

    /// <summary>For <c>chunk</c>: the column, dotted for nested fields (<c>address.city</c>).</summary>
    public string? Column { get; init; }

    /// <summary>For <c>batches</c>: the row groups to decode, in order; null means all.</summary>
    public IReadOnlyList<int>? RowGroups { get; init; }

    /// <summary>For <c>batches</c>: the columns to decode; null means all.</summary>
    public IReadOnlyList<string>? Columns { get; init; }

    /// <summary>The ticket as JSON bytes (fields left out when unset).</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, TicketJson.Default.DoraTicket);

    /// <summary>
    /// Parses a ticket, naming what is wrong when it cannot: not JSON, not an object, a field it does not know (a typo
    /// such as <c>"colums"</c> is refused, never ignored), a field of the wrong type, a field another kind of ticket
    /// takes, or a required field missing.
    /// </summary>
    /// <exception cref="TicketException">The ticket is not valid.</exception>
    public static DoraTicket Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > MaxBytes)
        {
            throw new TicketException($"the ticket is {json.Length} bytes; the limit is {MaxBytes}");
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new TicketException("the ticket is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 4 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new TicketException($"the ticket is not valid JSON: {e.Message}");
        }

        using (document)
        {
            return TicketFields.Read(document.RootElement);
        }
    }
}

/// <summary>A ticket or command that cannot be served as written.</summary>
public sealed class TicketException(string message) : Exception(message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(DoraTicket))]
internal sealed partial class TicketJson : JsonSerializerContext;
