using System.Text.Json.Serialization;

namespace Dora.Core.Protocol;

/// <summary>The JSON body of <see cref="FrameType.StatOk"/>.</summary>
public sealed record StatReply(
    string Path, string Name, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag, long CachedBytes);

/// <summary>One entry of a <see cref="ListReply"/>.</summary>
public sealed record ListEntry(string Name, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag);

/// <summary>The JSON body of <see cref="FrameType.ListOk"/>: entries in name order and the cursor of the next page, or null.</summary>
public sealed record ListReply(IReadOnlyList<ListEntry> Entries, string? Next);

/// <summary>
/// The JSON body of <see cref="FrameType.HealthOk"/> (and of a worker's <c>/healthz</c>): <c>status</c> is <c>ok</c>, or
/// <c>degraded</c> while something is wrong that readers do not see (a cache directory bypassed after a failure: reads
/// still succeed, through the under storage), with one sentence per problem in <c>reasons</c>.
/// </summary>
public sealed record HealthReply(
    string WorkerId, string Status, long CacheUsedBytes, long CacheCapacityBytes, long Pages, int UnavailableDirectories, long StreamConnections, IReadOnlyList<string> Reasons);

/// <summary>
/// The JSON body of <see cref="FrameType.LoadOk"/>: the range as clamped to the file, the pages it touches, and how many
/// of them were fetched now versus found cached already.
/// </summary>
public sealed record LoadReply(string Path, long Offset, long Length, long Pages, long FetchedPages, long CachedPages);

/// <summary>
/// The JSON body of <see cref="FrameType.VerifyOk"/>: the pages of the range, how many are cached and intact, and the
/// indexes of (at most the first 100 of) those that are not; those were dropped from the cache.
/// </summary>
public sealed record VerifyReply(string Path, long Offset, long Length, long Pages, long IntactPages, IReadOnlyList<long> MissingPages);

/// <summary>
/// The JSON body of <see cref="FrameType.InvalidateOk"/>: what the worker knows of the path after dropping what it had
/// cached about it (and, for a file, after a fresh look at the under storage): whether it exists, its version now, and
/// how many cached pages of an older version were dropped.
/// </summary>
public sealed record InvalidateReply(string Path, bool Recursive, bool Exists, string? Version, long DroppedPages);

/// <summary>The JSON body of <see cref="FrameType.EvictOk"/>: the cached pages of the file's current version that were dropped.</summary>
public sealed record EvictReply(string Path, long DroppedPages);

/// <summary>
/// The JSON body of <see cref="FrameType.LocateOk"/>: the cached pages of the range on this worker's disk (pages not
/// cached, or that the worker will not let be read around it, are left out), and the page size.
/// </summary>
public sealed record LocateReply(string Path, string WorkerId, int PageSize, IReadOnlyList<PageLocation> Pages);

/// <summary>
/// One cached page on a worker's disk: its bytes are <see cref="Length"/> bytes of <see cref="File"/> from
/// <see cref="DataOffset"/>. <see cref="Device"/>, <see cref="Inode"/>, <see cref="ChangedNs"/> (the change time,
/// nanoseconds since the epoch) and <see cref="FileBytes"/> identify the file as the worker checked it: a reader
/// compares them with what it opened, before every read, and uses the file only while they match.
/// </summary>
public sealed record PageLocation(long Index, string File, long DataOffset, int Length, ulong Device, ulong Inode, long ChangedNs, long FileBytes);

/// <summary>Source-generated JSON of the protocol's JSON bodies (camelCase).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StatReply))]
[JsonSerializable(typeof(ListReply))]
[JsonSerializable(typeof(HealthReply))]
[JsonSerializable(typeof(LoadReply))]
[JsonSerializable(typeof(VerifyReply))]
[JsonSerializable(typeof(InvalidateReply))]
[JsonSerializable(typeof(EvictReply))]
[JsonSerializable(typeof(LocateReply))]
public sealed partial class ProtocolJson : JsonSerializerContext;
