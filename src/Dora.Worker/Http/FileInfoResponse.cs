namespace Dora.Worker.Http;

/// <summary>Body of <c>GET /v1/info</c>.</summary>
public sealed record FileInfoResponse(
    string Path,
    string Name,
    bool IsDirectory,
    long Length,
    DateTimeOffset LastModified,
    string? ETag,
    long CachedBytes);
