namespace Dora.Core.UnderStorage;

/// <summary>The status of one file or directory in an under storage.</summary>
/// <param name="Name">The last path segment.</param>
/// <param name="IsDirectory">True for a directory (or an object-store prefix).</param>
/// <param name="Length">Length in bytes; 0 for directories.</param>
/// <param name="LastModified">Modification time as the store reports it.</param>
/// <param name="ETag">The store's ETag or version id, or null where it has none (local folders).</param>
public sealed record UfsFileStatus(string Name, bool IsDirectory, long Length, DateTimeOffset LastModified, string? ETag)
{
    public Fingerprint Fingerprint => new(Length, LastModified, ETag);
}
