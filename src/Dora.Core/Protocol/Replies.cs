using System.Text.Json.Serialization;

namespace Dora.Core.Protocol;

/// <summary>The JSON body of <see cref="FrameType.StatOk"/>.</summary>
public sealed record StatReply(
    string Path, string Name, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag, long CachedBytes);

/// <summary>One entry of a <see cref="ListReply"/>.</summary>
public sealed record ListEntry(string Name, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag);

/// <summary>The JSON body of <see cref="FrameType.ListOk"/>: entries in name order and the cursor of the next page, or null.</summary>
public sealed record ListReply(IReadOnlyList<ListEntry> Entries, string? Next);

/// <summary>Source-generated JSON of the protocol's JSON bodies (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatReply))]
[JsonSerializable(typeof(ListReply))]
public sealed partial class ProtocolJson : JsonSerializerContext;
