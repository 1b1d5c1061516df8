using Dora.Worker.Pages.Eviction;

namespace Dora.Worker.Pages;

/// <summary>Settings of the page store. Every default is stated here; <see cref="Validate"/> names a bad setting.</summary>
public sealed record PageStoreOptions
{
    /// <summary>Default page size: 1 MiB, large enough for sequential throughput, small enough for random reads.</summary>
    public const int DefaultPageSize = 1 << 20;

    /// <summary>Smallest page size accepted: 4 KiB, one disk block.</summary>
    public const int MinPageSize = 4 << 10;

    /// <summary>Largest page size accepted: 64 MiB; larger pages waste memory on every miss.</summary>
    public const int MaxPageSize = 64 << 20;

    /// <summary>Folders holding pages, each with its own quota. At least one.</summary>
    public required IReadOnlyList<CacheDirectoryOptions> Directories { get; init; }

    /// <summary>Bytes per page. Default <see cref="DefaultPageSize"/>; changing it empties the store at the next start.</summary>
    public int PageSize { get; init; } = DefaultPageSize;

    /// <summary>Eviction policy of every directory. Default LRU.</summary>
    public EvictionPolicyKind Eviction { get; init; } = EvictionPolicyKind.Lru;

    /// <summary>
    /// How long a directory that failed a write (full disk, permissions) is bypassed before it is tried again.
    /// Default 30 s: long enough not to hammer a full disk, short enough to recover soon after space is freed.
    /// </summary>
    public TimeSpan DegradedRetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Under-storage page reads that may run at once across the whole worker (misses, read-ahead and loads alike); more
    /// wait for a slot. Default 64: enough to keep an object store's pipe full, few enough that a burst of misses
    /// cannot hold more than 64 page buffers (64 MiB at the default page size) in reads.
    /// </summary>
    public int MaxConcurrentLoads { get; init; } = 64;

    /// <summary>What is checked when cached bytes are served. Default <see cref="ReadCheck.Blocks"/>; see docs/storage.md, "Integrity".</summary>
    public ReadCheck ReadCheck { get; init; } = ReadCheck.Blocks;

    /// <summary>
    /// Bytes per second the background scrubber reads to check every cached page whole, endlessly, so damage below the
    /// file system is found even in pages only ever sent with sendfile. Default 64 MiB/s (a 4 GiB cache is checked
    /// every 64 s); 0 turns the scrubber off.
    /// </summary>
    public long ScrubBytesPerSecond { get; init; } = 64L << 20;

    public void Validate()
    {
        if (Directories is null || Directories.Count == 0)
        {
            throw new ArgumentException("PageStoreOptions.Directories: at least one cache directory is required.");
        }

        foreach (var directory in Directories)
        {
            if (string.IsNullOrWhiteSpace(directory.Path))
            {
                throw new ArgumentException("PageStoreOptions.Directories: a cache directory path is empty.");
            }

            if (directory.QuotaBytes <= 0)
            {
                throw new ArgumentException($"PageStoreOptions.Directories: the quota of '{directory.Path}' must be positive (was {directory.QuotaBytes}).");
            }
        }

        if (Directories.Select(d => Path.GetFullPath(d.Path)).Distinct(StringComparer.Ordinal).Count() != Directories.Count)
        {
            throw new ArgumentException("PageStoreOptions.Directories: the same cache directory is listed twice.");
        }

        if (PageSize is < MinPageSize or > MaxPageSize)
        {
            throw new ArgumentException($"PageStoreOptions.PageSize must be between {MinPageSize} and {MaxPageSize} bytes (was {PageSize}).");
        }

        if (MaxConcurrentLoads is < 1 or > 4096)
        {
            throw new ArgumentException($"PageStoreOptions.MaxConcurrentLoads must be between 1 and 4096 (was {MaxConcurrentLoads}).");
        }

        if (ScrubBytesPerSecond < 0)
        {
            throw new ArgumentException($"PageStoreOptions.ScrubBytesPerSecond cannot be negative (was {ScrubBytesPerSecond}).");
        }

        if (!Enum.IsDefined(ReadCheck))
        {
            throw new ArgumentException($"PageStoreOptions.ReadCheck is not a known check (was {ReadCheck}).");
        }

        if (DegradedRetryInterval < TimeSpan.Zero)
        {
            throw new ArgumentException($"PageStoreOptions.DegradedRetryInterval cannot be negative (was {DegradedRetryInterval}).");
        }
    }
}
