using Dora.Core.Mounts;

namespace Dora.Fuse;

/// <summary>How <c>dora mount</c> presents the cluster (docs/fuse.md).</summary>
public sealed record FuseMountOptions
{
    /// <summary>Where the file system appears: an existing, empty directory.</summary>
    public required string MountPoint { get; init; }

    /// <summary>
    /// Kernel caching: <c>immutable</c> keeps file data in the page cache across opens and attributes for a day;
    /// <c>ttl</c> keeps both for <see cref="Ttl"/>; <c>always</c> caches nothing (direct I/O, zero timeouts).
    /// </summary>
    public ConsistencyMode Consistency { get; init; } = ConsistencyMode.Ttl;

    /// <summary>Attribute and entry lifetime in the <c>ttl</c> mode: 60 s, as the workers' default.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Owner of every file and directory (default: the user who mounts).</summary>
    public uint Uid { get; init; }

    public uint Gid { get; init; }

    /// <summary>Let other users than the one who mounted see the files (FUSE's <c>allow_other</c>).</summary>
    public bool AllowOther { get; init; }

    /// <summary>The largest read the kernel sends: 1 MiB (the page size), negotiated as <c>max_read</c> and <c>max_pages</c>.</summary>
    public int MaxRead { get; init; } = 1 << 20;

    /// <summary>Threads reading requests from <c>/dev/fuse</c>; requests are then served concurrently on the thread pool.</summary>
    public int ReaderThreads { get; init; } = 4;

    /// <summary>Requests served at once (reads in flight to the workers): 64; further ones wait.</summary>
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>
    /// Read-around window: a READ smaller than this that misses the kernel's page cache fetches the whole aligned
    /// window from the worker and hands it to the kernel's page cache, so nearby small reads never leave the kernel.
    /// Default 1 MiB (one worker page, which the worker reads whole anyway); 0 turns it off. Not used in the
    /// <c>always</c> mode, which caches nothing.
    /// </summary>
    public int ReadAround { get; init; } = 1 << 20;

    /// <summary>Read-around windows held at once (fetching, or waiting to be handed to the kernel): 32, so at most 32 MiB.</summary>
    public int MaxReadAroundWindows { get; init; } = 32;

    /// <summary>
    /// Read the owner's cached pages straight from its page files when the owner runs on this host and its cache
    /// directory is readable here (<see cref="Dora.Client.LocalPageReader"/>), rather than over TCP. On by default;
    /// it changes nothing where the owner is elsewhere.
    /// </summary>
    public bool LocalReads { get; init; } = true;

    /// <summary>Entries fetched per listing page from the workers while a directory is read.</summary>
    public int ListingPage { get; init; } = 1000;

    internal TimeSpan AttributeLifetime => Consistency switch
    {
        ConsistencyMode.Immutable => TimeSpan.FromDays(1),
        ConsistencyMode.Always => TimeSpan.Zero,
        _ => Ttl,
    };
}
