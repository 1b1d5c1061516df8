using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Worker.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Worker.Metadata;

/// <summary>
/// File status and directory listings of the files a worker owns, in two levels: memory (bounded by count) and
/// RocksDB (surviving restarts), in front of the under storage. Each mount's consistency mode decides when a cached
/// fact must be checked again; when a check finds a file with a new fingerprint, <c>onFileChanged</c> is told the old
/// status so that the file's old pages can be dropped. Concurrent checks of one key share one under-storage call.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private readonly MetadataOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly TimeProvider _clock;
    private readonly Action<DoraPath, UfsFileStatus> _onFileChanged;
    private readonly MemoryMetadataCache _memory;
    private readonly RocksMetadataStore _disk;
    private readonly Dictionary<string, Task<MetadataEntry>> _checks = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly Lock _checksLock = new();

    // Made once: a method group passed per lookup would allocate a delegate on every status call, hits included.
    private readonly Func<ResolvedPath, CancellationToken, Task<MetadataEntry>> _statFromStorage;

    public MetadataStore(MetadataOptions options, WorkerMetrics metrics, Action<DoraPath, UfsFileStatus> onFileChanged, TimeProvider? clock = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _onFileChanged = onFileChanged;
        _clock = clock ?? TimeProvider.System;
        _memory = new MemoryMetadataCache(options.MemoryMaxEntries, options.MemoryTtl);
        _disk = new RocksMetadataStore(options.DatabaseDirectory, options.DiskTtl);
        _statFromStorage = StatAsync;
    }

    /// <summary>Largest listing page served.</summary>
    public int MaxListingPage => _options.MaxListingPage;

    /// <summary>Entries held in memory.</summary>
    public int MemoryEntries => _memory.Count;

    /// <summary>The status of a file or directory.</summary>
    /// <exception cref="DoraFileNotFoundException">It does not exist (possibly a cached negative answer).</exception>
    public async ValueTask<UfsFileStatus> GetStatusAsync(ResolvedPath resolved, CancellationToken cancellationToken)
    {
        var key = MetadataKeys.Status(resolved.Path);
        var entry = await LookupAsync(key, resolved, _statFromStorage, cancellationToken).ConfigureAwait(false);
        return entry.Kind == MetadataEntryKind.Status ? entry.Status! : throw new DoraFileNotFoundException(resolved.Path.Value);
    }

    /// <summary>
    /// The status cached for <paramref name="path"/> (memory, else RocksDB), however old, without asking the under
    /// storage; null when nothing (or a negative entry) is cached.
    /// </summary>
    public UfsFileStatus? PeekStatus(DoraPath path)
    {
        var key = MetadataKeys.Status(path);
        var now = NowMs;
        return _memory.TryGet(key, now, out var cached) || TryGetFromDisk(key, now, out cached)
            ? cached.Status
            : null;
    }

    /// <summary>One page of a directory listing, ordered by name.</summary>
    public async ValueTask<UfsListingPage> ListAsync(ResolvedPath resolved, string? after, int limit, CancellationToken cancellationToken)
    {
        if (limit < 1 || limit > _options.MaxListingPage)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A listing page holds 1 to {_options.MaxListingPage} entries.");
        }

        var key = MetadataKeys.Listing(resolved.Path, after, limit);
        var entry = await LookupAsync(key, resolved, (r, ct) => ListFromStorageAsync(r, after, limit, ct), cancellationToken).ConfigureAwait(false);
        return entry.Kind == MetadataEntryKind.Listing ? entry.Listing! : throw new DoraFileNotFoundException(resolved.Path.Value);
    }

    /// <summary>
    /// Makes the next lookup of <paramref name="path"/> (and, when <paramref name="recursive"/>, of everything below
    /// it) check the under storage again. Listings of the path and of its parent are dropped.
    /// </summary>
    public void Invalidate(DoraPath path, bool recursive)
    {
        bool Matches(string key) => MetadataKeys.IsAbout(key, path, recursive)
            || (key[0] == 'l' && MetadataKeys.IsAbout(key, path.Parent, recursive: false));

        _memory.Invalidate(Matches);
        _disk.Invalidate("s" + path.Value, Matches);

        // The parent's key prefix also covers the listings of the path and of everything below it.
        _disk.Invalidate("l" + path.Parent.Value, Matches);
    }

    /// <summary>Deletes expired RocksDB entries; returns how many.</summary>
    public int SweepExpired() => _disk.SweepExpired(NowMs);

    public void Dispose() => _disk.Dispose();

    private long NowMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    private async ValueTask<MetadataEntry> LookupAsync(
        string key,
        ResolvedPath resolved,
        Func<ResolvedPath, CancellationToken, Task<MetadataEntry>> fetch,
        CancellationToken cancellationToken)
    {
        var now = NowMs;
        MetadataEntry? previous = null;
        if (_memory.TryGet(key, now, out var cached))
        {
            if (IsFresh(cached, resolved.Mount, now))
            {
                _metrics.MetadataLookup(MetadataLevel.Memory);
                return cached;
            }

            previous = cached;
        }
        else if (TryGetFromDisk(key, now, out cached))
        {
            _memory.Set(key, cached);
            if (IsFresh(cached, resolved.Mount, now))
            {
                _metrics.MetadataLookup(MetadataLevel.RocksDb);
                return cached;
            }

            previous = cached;
        }

        _metrics.MetadataLookup(MetadataLevel.Ufs);
        return await CheckSharedAsync(key, resolved, previous, fetch).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // One check per key at a time: later callers share the running one. Only the table is touched under the lock;
    // the under-storage call and the writes of its answer run outside it, so checks of different keys never wait for
    // each other.
    private Task<MetadataEntry> CheckSharedAsync(
        string key,
        ResolvedPath resolved,
        MetadataEntry? previous,
        Func<ResolvedPath, CancellationToken, Task<MetadataEntry>> fetch)
    {
        TaskCompletionSource<MetadataEntry> check;
        lock (_checksLock)
        {
            if (_checks.TryGetValue(key, out var running))
            {
                return running;
            }

            check = new TaskCompletionSource<MetadataEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
            _checks.Add(key, check.Task);
        }

        _ = CheckAsync(key, resolved, previous, fetch, check);
        return check.Task;
    }

    // Runs without the caller's token: other callers may be waiting for the same answer.
    private async Task CheckAsync(
        string key,
        ResolvedPath resolved,
        MetadataEntry? previous,
        Func<ResolvedPath, CancellationToken, Task<MetadataEntry>> fetch,
        TaskCompletionSource<MetadataEntry> check)
    {
        MetadataEntry entry;
        try
        {
            entry = await fetch(resolved, CancellationToken.None).ConfigureAwait(false);
            if (previous is { Kind: MetadataEntryKind.Status, Status: { IsDirectory: false } old }
                && (entry.Kind != MetadataEntryKind.Status || entry.Status!.Fingerprint != old.Fingerprint))
            {
                _onFileChanged(resolved.Path, old);
            }

            _memory.Set(key, entry);
            PutOnDisk(key, entry);
        }
        catch (Exception e)
        {
            Finish(key);
            check.SetException(e);
            return;
        }

        Finish(key);
        check.SetResult(entry);
    }

    private void Finish(string key)
    {
        lock (_checksLock)
        {
            _checks.Remove(key);
        }
    }

    // RocksDB is the second level: when it fails, lookups fall back to memory and the under storage, never to an error.
    private bool TryGetFromDisk(string key, long nowMs, out MetadataEntry entry)
    {
        try
        {
            return _disk.TryGet(key, nowMs, out entry);
        }
        catch (RocksDbSharp.RocksDbException e)
        {
            DiskFailed(e);
            entry = null!;
            return false;
        }
    }

    private void PutOnDisk(string key, MetadataEntry entry)
    {
        try
        {
            _disk.Put(key, entry);
            if (Volatile.Read(ref _diskFailing) != 0)
            {
                Volatile.Write(ref _diskFailing, 0);
            }
        }
        catch (RocksDbSharp.RocksDbException e)
        {
            DiskFailed(e);
        }
    }

    private void DiskFailed(Exception error)
    {
        // Logged once per failing stretch (until a write succeeds again); the counter has every failure.
        _metrics.MetadataDiskFailed();
        if (Interlocked.Exchange(ref _diskFailing, 1) == 0)
        {
            MetadataLog.DiskFailed(_logger, _options.DatabaseDirectory, error);
        }
    }

    private int _diskFailing;

    private async Task<MetadataEntry> StatAsync(ResolvedPath resolved, CancellationToken cancellationToken)
    {
        var now = NowMs;
        try
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var status = await resolved.Mount.Storage.StatAsync(resolved.RelativePath, cancellationToken).ConfigureAwait(false);
                return new MetadataEntry(MetadataEntryKind.Status, status, null, now, now);
            }
            finally
            {
                _metrics.UfsCallTook(System.Diagnostics.Stopwatch.GetElapsedTime(started), "stat");
            }
        }
        catch (DoraFileNotFoundException)
        {
            return new MetadataEntry(MetadataEntryKind.Missing, null, null, now, now);
        }
    }

    private async Task<MetadataEntry> ListFromStorageAsync(ResolvedPath resolved, string? after, int limit, CancellationToken cancellationToken)
    {
        var now = NowMs;
        try
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                var page = await resolved.Mount.Storage.ListAsync(resolved.RelativePath, after, limit, cancellationToken).ConfigureAwait(false);
                return new MetadataEntry(MetadataEntryKind.Listing, null, page, now, now);
            }
            finally
            {
                _metrics.UfsCallTook(System.Diagnostics.Stopwatch.GetElapsedTime(started), "list");
            }
        }
        catch (DoraFileNotFoundException)
        {
            return new MetadataEntry(MetadataEntryKind.Missing, null, null, now, now);
        }
    }

    private bool IsFresh(MetadataEntry entry, Mount mount, long nowMs)
    {
        if (entry.ValidatedAtMs == 0 || mount.Consistency == ConsistencyMode.Always)
        {
            return false;
        }

        var age = nowMs - entry.ValidatedAtMs;
        if (entry.Kind == MetadataEntryKind.Missing)
        {
            return age < _options.NegativeTtl.TotalMilliseconds;
        }

        return mount.Consistency == ConsistencyMode.Immutable || age < mount.Ttl.TotalMilliseconds;
    }
}
