using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dora.Registry;

/// <summary>
/// What the cluster's scheduler advertises under <c>/dora/&lt;cluster&gt;/scheduler</c>: the URL of its REST API, when it
/// started, and its version. Client commands find the scheduler through it.
/// </summary>
public sealed record SchedulerRecord(string Url, DateTimeOffset StartedAt, string Version)
{
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, SchedulerRecordJson.Default.SchedulerRecord);

    /// <summary>The record in <paramref name="json"/>, or null when it is not a valid record.</summary>
    public static SchedulerRecord? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            SchedulerRecord? record = JsonSerializer.Deserialize(json, SchedulerRecordJson.Default.SchedulerRecord);
            return record is not null && Uri.TryCreate(record.Url, UriKind.Absolute, out _) ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SchedulerRecord))]
internal sealed partial class SchedulerRecordJson : JsonSerializerContext;
