namespace Dora.Core.UnderStorage;

/// <summary>
/// What identifies one version of an under-storage file: its length, its last-modified time and, where the store has
/// one, its ETag or version id. Cached pages are keyed by it, so a changed file is never served from old pages.
/// </summary>
public readonly record struct Fingerprint(long Length, DateTimeOffset LastModified, string? ETag)
{
    /// <summary>A stable text form used inside cache keys: length, modification time in ticks (UTC), ETag.</summary>
    public string ToKeyString() => $"{Length}:{LastModified.UtcTicks}:{ETag}";
}
