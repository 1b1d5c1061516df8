using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dora.Registry;

/// <summary>
/// What a worker advertises under <c>/dora/&lt;cluster&gt;/workers/&lt;id&gt;</c>: the JSON object of DESIGN.md,
/// <c>{"id","host","flightPort","streamPort","httpPort","capacityBytes","startedAt","version"}</c>. A port of 0 means
/// the worker does not serve that protocol.
/// </summary>
public sealed record WorkerRecord
{
    /// <summary>Longest worker id accepted, in characters.</summary>
    public const int MaxIdLength = 128;

    /// <summary>The worker's stable id; placement depends on it alone.</summary>
    public required string Id { get; init; }

    /// <summary>Host name or address clients connect to.</summary>
    public required string Host { get; init; }

    /// <summary>Arrow Flight port, 0 when not served.</summary>
    public int FlightPort { get; init; }

    /// <summary>Page stream port, 0 when not served.</summary>
    public int StreamPort { get; init; }

    /// <summary>HTTP port (health, metrics, REST reads), 0 when not served.</summary>
    public int HttpPort { get; init; }

    /// <summary>S3 gateway port, 0 when not served.</summary>
    public int S3Port { get; init; }

    /// <summary>
    /// True when every face of the worker speaks TLS with one certificate for <see cref="Host"/>: HTTPS, the page
    /// stream as <c>dora+tls://</c>, Flight as <c>grpc+tls://</c>. Clients then check that certificate for the host
    /// advertised here before they send a token.
    /// </summary>
    public bool Tls { get; init; }

    /// <summary>The HTTP API's base URL (<c>https://</c> with TLS), null when not served. Written to the registry for readers.</summary>
    public string? HttpUri => HttpPort == 0 ? null : $"{(Tls ? "https" : "http")}://{HostInUri}:{HttpPort}/";

    /// <summary>The page stream's URI (<c>dora://</c> or <c>dora+tls://</c>), null when not served.</summary>
    public string? StreamUri => StreamPort == 0 ? null : $"{(Tls ? "dora+tls" : "dora")}://{HostInUri}:{StreamPort}";

    /// <summary>The S3 gateway's endpoint URL (<c>https://</c> with TLS), null when not served.</summary>
    public string? S3Uri => S3Port == 0 ? null : $"{(Tls ? "https" : "http")}://{HostInUri}:{S3Port}";

    /// <summary>The Arrow Flight URI (<c>grpc+tcp://</c> or <c>grpc+tls://</c>), null when not served.</summary>
    public string? FlightUri => FlightPort == 0 ? null : $"{(Tls ? "grpc+tls" : "grpc+tcp")}://{HostInUri}:{FlightPort}";

    /// <summary>The host as a URI spells it (an IPv6 address in brackets).</summary>
    private string HostInUri => Host.Contains(':', StringComparison.Ordinal) && !Host.StartsWith('[') ? $"[{Host}]" : Host;

    /// <summary>Bytes of page cache the worker has, the basis of capacity weights.</summary>
    public long CapacityBytes { get; init; }

    /// <summary>When this worker process started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Dora version of the worker.</summary>
    public string Version { get; init; } = string.Empty;

    /// <summary>The mount table this worker serves, one line per mount (no credentials); null when not advertised.</summary>
    public IReadOnlyList<string>? Mounts { get; init; }

    /// <summary>Most mounts a record may list.</summary>
    public const int MaxMounts = 64;

    /// <summary>State of a worker serving normally (also what a record without <see cref="State"/> means).</summary>
    public const string Serving = "serving";

    /// <summary>State of a worker that serves every read but has a problem readers do not see (a cache directory bypassed).</summary>
    public const string Degraded = "degraded";

    /// <summary>State a worker writes just before it deregisters on purpose: clients drop it at once, with no grace.</summary>
    public const string Leaving = "leaving";

    /// <summary><see cref="Serving"/>, <see cref="Degraded"/> or <see cref="Leaving"/>; null reads as serving.</summary>
    public string? State { get; init; }

    /// <summary>Why the worker is degraded, one sentence each; null or empty otherwise.</summary>
    public IReadOnlyList<string>? Reasons { get; init; }

    /// <summary>
    /// How many times this worker process has registered: 1, plus one for every registration it had to renew after its
    /// lease was lost (etcd unreachable longer than the lease). Shown by <c>dora workers</c>. Records written without it
    /// (static files, older workers) read 0, meaning unknown.
    /// </summary>
    public int Registrations { get; init; } = 1;

    /// <summary>Registrations renewed after a lost lease (0 when unknown).</summary>
    [JsonIgnore]
    public int Renewals => Math.Max(0, Registrations - 1);

    /// <summary>When the current registration was made (the last renewal, if any).</summary>
    public DateTimeOffset? RegisteredAt { get; init; }

    /// <summary>True when the worker said it is leaving.</summary>
    [JsonIgnore]
    public bool IsLeaving => State == Leaving;

    /// <summary>The record as the registry stores it (UTF-8 JSON).</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, RegistryJson.Default.WorkerRecord);

    /// <summary>
    /// Writes the record's fields, as the registry stores them, into the JSON object <paramref name="writer"/> is in,
    /// so listings can add fields of their own beside them.
    /// </summary>
    public void WriteFields(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteString("id", Id);
        writer.WriteString("host", Host);
        writer.WriteNumber("httpPort", HttpPort);
        writer.WriteNumber("streamPort", StreamPort);
        writer.WriteNumber("flightPort", FlightPort);
        writer.WriteBoolean("tls", Tls);
        writer.WriteString("httpUri", HttpUri);
        writer.WriteString("streamUri", StreamUri);
        writer.WriteString("flightUri", FlightUri);
        writer.WriteNumber("s3Port", S3Port);
        writer.WriteString("s3Uri", S3Uri);
        writer.WriteNumber("capacityBytes", CapacityBytes);
        writer.WriteString("startedAt", StartedAt);
        writer.WriteString("version", Version);
        if (Mounts is not null)
        {
            WriteStrings(writer, "mounts", Mounts);
        }

        writer.WriteString("state", State ?? Serving);
        WriteStrings(writer, "reasons", Reasons ?? []);
        if (Registrations > 0)
        {
            writer.WriteNumber("registrations", Registrations);
        }
        if (RegisteredAt is { } registeredAt)
        {
            writer.WriteString("registeredAt", registeredAt);
        }
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(name);
        foreach (string value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// Parses and checks a stored record. <paramref name="expectedId"/> is the id its key names; a record claiming
    /// another id is refused so one worker cannot shadow another.
    /// </summary>
    /// <exception cref="FormatException">The entry is not a valid worker record; the message says why.</exception>
    public static WorkerRecord Parse(ReadOnlySpan<byte> json, string expectedId)
    {
        WorkerRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(json, RegistryJson.Default.WorkerRecord);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Worker entry '{expectedId}' is not a valid worker record: {e.Message}", e);
        }

        if (record is null)
        {
            throw new FormatException($"Worker entry '{expectedId}' is JSON null.");
        }

        if (record.Id != expectedId)
        {
            throw new FormatException($"Worker entry '{expectedId}' claims id '{record.Id}'.");
        }

        record.Validate();
        return record;
    }

    /// <summary>Checks every field, naming the first bad one.</summary>
    /// <exception cref="FormatException">A field is out of range.</exception>
    public void Validate()
    {
        if (!IsValidId(Id))
        {
            throw new FormatException(
                $"Worker id '{Id}' is invalid: use 1 to {MaxIdLength} characters from letters, digits, '.', '_' and '-'.");
        }

        if (string.IsNullOrWhiteSpace(Host))
        {
            throw new FormatException($"Worker '{Id}' has no host.");
        }

        foreach ((string name, int port) in new[] { ("flightPort", FlightPort), ("streamPort", StreamPort), ("httpPort", HttpPort), ("s3Port", S3Port) })
        {
            if (port is < 0 or > 65535)
            {
                throw new FormatException($"Worker '{Id}' has {name} {port}; ports are 0 (not served) to 65535.");
            }
        }

        if (Mounts is { Count: > MaxMounts } || Mounts?.Any(m => m is null || m.Length > 1024) == true)
        {
            throw new FormatException($"Worker '{Id}' lists more than {MaxMounts} mounts or a mount over 1024 characters.");
        }

        if (CapacityBytes < 0)
        {
            throw new FormatException($"Worker '{Id}' has capacityBytes {CapacityBytes}; it cannot be negative.");
        }

        if (State is not (null or Serving or Degraded or Leaving))
        {
            throw new FormatException($"Worker '{Id}' has state '{State}'; states are {Serving}, {Degraded} and {Leaving}.");
        }

        if (Reasons is { Count: > 16 } || Reasons?.Any(r => r is null || r.Length > 1024) == true || Registrations < 0)
        {
            throw new FormatException($"Worker '{Id}' has more than 16 reasons, one over 1024 characters, or negative registrations.");
        }
    }

    /// <summary>True for a syntactically valid worker id.</summary>
    public static bool IsValidId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Source-generated JSON for registry entries (camelCase, as DESIGN.md spells them).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WorkerRecord))]
[JsonSerializable(typeof(StaticMembershipFile))]
internal sealed partial class RegistryJson : JsonSerializerContext;

/// <summary>The static registry's file: <c>{"workers": [record, ...]}</c>.</summary>
internal sealed class StaticMembershipFile
{
    public List<JsonElement> Workers { get; set; } = [];

    /// <summary>The scheduler the file names (a static file cannot be written to by the scheduler itself).</summary>
    public JsonElement? Scheduler { get; set; }
}
