namespace Dora.Worker.Http;

/// <summary>Body of <c>GET /v1/files</c>: one page of a directory, ordered by name.</summary>
public sealed record ListingResponse(string Path, IReadOnlyList<ListingEntry> Entries, string? NextToken);

/// <summary>One child of a directory.</summary>
public sealed record ListingEntry(string Name, string Path, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag);
