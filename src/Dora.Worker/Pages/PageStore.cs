using System.Collections.Concurrent;
using Dora.Core.Errors;
using Dora.Core.Native;
using Dora.Core.Protocol;
using Dora.Worker.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dora.Worker.Pages;

/// <summary>
/// The worker's data cache: fixed-size pages of under-storage files kept as files in one or more cache directories.
/// A read of a cached page is a positioned read of its file, checked block by block against the page's checksums; a
/// miss reads the page from the under storage once, however many readers want it, serves it, and writes it behind to
/// disk. Corrupt pages are detected, counted, dropped and refetched; a directory that cannot be written is bypassed,
/// so a reader always gets correct bytes.
/// </summary>
public sealed partial class PageStore : IDisposable
{
    private readonly PageStoreOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CacheDirectory[] _directories;
    private readonly CacheDirectoryLock?[] _locks;
    private readonly ConcurrentDictionary<PageKey, PageEntry> _index = new();

    private PageStore(PageStoreOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _directories = [.. options.Directories.Select(d => new CacheDirectory(d, options.Eviction, options.PageSize))];
        _locks = new CacheDirectoryLock?[_directories.Length];
        _loadSlots = new SemaphoreSlim(options.MaxConcurrentLoads, options.MaxConcurrentLoads);
    }

    public int PageSize => _options.PageSize;

    public long CapacityBytes => _directories.Sum(d => d.QuotaBytes);

    public long UsedBytes => _directories.Sum(d => d.UsedBytes);

    public int PageCount => _index.Count;

    /// <summary>Cache directories currently bypassed after a failure.</summary>
    public int UnavailableDirectories => _directories.Count(d => !d.IsAvailable);

    /// <summary>Why each bypassed cache directory is bypassed; empty while all are in use.</summary>
    public IReadOnlyList<string> DegradedReasons
    {
        get
        {
            var reasons = new List<string>();
            foreach (var directory in _directories)
            {
                if (directory.DegradedReason is { } reason)
                {
                    reasons.Add($"cache directory '{directory.Root}' is bypassed: {reason}");
                }
            }

            return reasons;
        }
    }

    /// <summary>
    /// Opens the store: locks every directory, prepares it and indexes the pages an earlier run left, without reading
    /// their contents or the under storage (each page is checked whole on its first read).
    /// </summary>
    /// <exception cref="CacheDirectoryInUseException">Another running worker holds one of the directories.</exception>
    public static PageStore Open(PageStoreOptions options, WorkerMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var store = new PageStore(options, metrics, logger);
        try
        {
            store.LockDirectories();
            store.Recover();
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies bytes of page <paramref name="pageIndex"/> starting at <paramref name="offsetInPage"/> into
    /// <paramref name="destination"/> and returns how many were copied (the rest of the page, at most the destination).
    /// </summary>
    public async ValueTask<int> ReadAsync(PageSource source, long pageIndex, int offsetInPage, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var pageLength = PageLength(source, pageIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(offsetInPage);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offsetInPage, pageLength);
        var count = Math.Min(destination.Length, pageLength - offsetInPage);
        var key = new PageKey(source.File, pageIndex);
        while (true)
        {
            if (TryReadCached(key, pageLength, offsetInPage, destination.Span[..count]))
            {
                return count;
            }

            var load = JoinOrStartLoad(source, key, pageLength);
            if (load is null)
            {
                continue;
            }

            try
            {
                await load.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                load.Data.Slice(offsetInPage, count).CopyTo(destination.Span);
                return count;
            }
            finally
            {
                load.Release();
            }
        }
    }

    /// <summary>
    /// Makes sure a page is cached, fetching it when it is not (without read-ahead: only this page), and returns once
    /// its page file is written. Returns true when it was fetched now, false when it was cached already.
    /// </summary>
    /// <exception cref="DoraException">Transient: the page was read but could not be written to the cache (the message says why).</exception>
    public async ValueTask<bool> EnsureCachedAsync(PageSource source, long pageIndex, CancellationToken cancellationToken)
    {
        var pageLength = PageLength(source, pageIndex);
        var key = new PageKey(source.File, pageIndex);
        while (true)
        {
            // A page being removed (evicted, dropped as damaged) is not cached: load it again rather than report it.
            if (_index.TryGetValue(key, out var cached) && !cached.IsRemoved)
            {
                return false;
            }

            var load = JoinOrStartLoad(source, key, pageLength);
            if (load is null)
            {
                continue;
            }

            try
            {
                await load.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                load.Release();
            }

            await load.Finished.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (load.NotCachedReason is { } reason)
            {
                // A load answers for pages on disk: a page that could not be written is an error to try again, not a success.
                throw new DoraException($"page {pageIndex} of '/{source.RelativePath}' was read but not cached: {reason}", isTransient: true);
            }

            return true;
        }
    }

    /// <summary>Drops one cached page, so the next read fetches it again from the under storage.</summary>
    /// <returns>True when the page was cached.</returns>
    public bool Drop(PageSource source, long pageIndex) =>
        _index.TryGetValue(new PageKey(source.File, pageIndex), out var entry) && Remove(entry);

    /// <summary>
    /// Checks a cached page now, reading its whole file against its checksums even when it was checked before. A page
    /// that is missing, short or damaged is dropped from the cache. False when the page is not cached intact.
    /// </summary>
    public bool VerifyNow(PageSource source, long pageIndex) =>
        _index.TryGetValue(new PageKey(source.File, pageIndex), out var entry)
        && entry.Length == PageLength(source, pageIndex)
        && CheckWholeNow(entry) == PageCheck.Intact;

    /// <summary>
    /// Opens a cached page for zero-copy sending of <paramref name="count"/> bytes from <paramref name="offsetInPage"/>,
    /// pinned until the result is disposed. Null when the page is not cached, not yet checked whole since start-up, or
    /// found damaged (then <see cref="ReadAsync"/> reads, checks and if need be refetches it). What is checked here
    /// depends on <see cref="PageStoreOptions.ReadCheck"/>.
    /// </summary>
    public CachedPageFile? TryOpenChecked(PageSource source, long pageIndex, int offsetInPage, int count)
    {
        var key = new PageKey(source.File, pageIndex);
        if (!_index.TryGetValue(key, out var entry) || !entry.Verified || !entry.TryPin())
        {
            return null;
        }

        FileStream? stream = null;
        string? problem;
        try
        {
            // bufferSize 0: the stream is only a handle for sendfile, never read through a managed buffer; the socket
            // layer insists on an asynchronous handle.
            stream = new FileStream(PathOf(entry), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
            problem = CheckBeforeSending(entry, stream.SafeFileHandle, PageLength(source, pageIndex), offsetInPage, count);
            if (problem is null)
            {
                entry.Directory.Touch(entry);
                _metrics.CacheHit();
                var opened = stream;
                stream = null;
                return new CachedPageFile(opened, entry, entry.Directory.DataOffset);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problem = "the page file is missing";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
        }

        stream?.Dispose();
        Corrupt(entry, problem);
        Unpin(entry);
        return null;
    }

    /// <summary>
    /// Where a cached page is on disk, checked as a zero-copy send checks it, for a reader on this host that reads the
    /// page file itself (LOCATE). Null when the page is not cached or was found damaged, and always under
    /// <see cref="ReadCheck.BlocksAlways"/>, which asks every read to check the blocks it serves: a reader elsewhere would not.
    /// </summary>
    public PageLocation? Locate(PageSource source, long pageIndex)
    {
        if (_options.ReadCheck == ReadCheck.BlocksAlways)
        {
            return null;
        }

        int length = PageLength(source, pageIndex);
        using CachedPageFile? cached = TryOpenChecked(source, pageIndex, 0, length);
        if (cached is null)
        {
            return null;
        }

        NativeFileStatus status = PosixFiles.Stat(cached.Stream.SafeFileHandle);
        return new PageLocation(pageIndex, cached.Stream.Name, cached.DataOffset, cached.Length, status.Device, status.Inode, status.ChangedNs, status.Length);
    }

    /// <summary>Releases a reader's pin; the last pin of a page evicted meanwhile deletes its file.</summary>
    internal static void Unpin(PageEntry entry)
    {
        if (entry.Unpin())
        {
            DeletePageFile(entry);
        }
    }

    /// <summary>Bytes of this file version that are cached.</summary>
    public long CachedBytes(FileKey file, long fileLength)
    {
        long total = 0;
        foreach (var entry in IndexedPagesOf(file, fileLength))
        {
            if (!entry.IsRemoved)
            {
                total += entry.Length;
            }
        }

        return total;
    }

    /// <summary>Pages of this file version that are cached.</summary>
    public long CachedPages(FileKey file, long fileLength)
    {
        long total = 0;
        foreach (var entry in IndexedPagesOf(file, fileLength))
        {
            if (!entry.IsRemoved)
            {
                total++;
            }
        }

        return total;
    }

    /// <summary>True when the page is cached (a read of it needs no under-storage read, unless its file is found damaged).</summary>
    public bool IsCached(PageSource source, long pageIndex) =>
        _index.TryGetValue(new PageKey(source.File, pageIndex), out var entry) && !entry.IsRemoved;

    /// <summary>Removes every cached page of one file version (it changed or was evicted on request).</summary>
    /// <returns>The number of pages removed.</returns>
    public int DropFile(FileKey file, long fileLength)
    {
        var removed = 0;
        foreach (var entry in IndexedPagesOf(file, fileLength))
        {
            if (Remove(entry))
            {
                removed++;
            }
        }

        return removed;
    }

    public void Dispose()
    {
        // Page files are the durable state; only the directory locks are held open between reads.
        for (var i = 0; i < _locks.Length; i++)
        {
            _locks[i]?.Dispose();
            _locks[i] = null;
        }
    }

    // Pages are found by key, page index by page index: a file version's pages need no index of their own.
    private IEnumerable<PageEntry> IndexedPagesOf(FileKey file, long fileLength)
    {
        var pages = (fileLength + PageSize - 1) / PageSize;
        for (long i = 0; i < pages; i++)
        {
            if (_index.TryGetValue(new PageKey(file, i), out var entry))
            {
                yield return entry;
            }
        }
    }

    private int PageLength(PageSource source, long pageIndex)
    {
        var start = pageIndex * (long)PageSize;
        if (pageIndex < 0 || start >= source.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(pageIndex), pageIndex, $"Page {pageIndex} is outside '{source.RelativePath}' ({source.Length} bytes).");
        }

        return (int)Math.Min(PageSize, source.Length - start);
    }

    private static string PathOf(PageEntry entry) => entry.Directory.PathOf(entry.Key, entry.Generation);

    // A read of cached bytes: every block it touches is checked against its checksum on the way out. A page read for
    // the first time since start-up is checked whole first (its header too).
    private bool TryReadCached(PageKey key, int pageLength, int offsetInPage, Span<byte> destination)
    {
        if (!_index.TryGetValue(key, out var entry) || !entry.TryPin())
        {
            return false;
        }

        try
        {
            string? problem;
            if (entry.Length != pageLength)
            {
                problem = $"it holds {entry.Length} bytes, the page has {pageLength}";
            }
            else
            {
                try
                {
                    using var handle = File.OpenHandle(PathOf(entry), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    problem = entry.Verified ? null : CheckWhole(entry, handle);
                    problem ??= _options.ReadCheck == ReadCheck.None
                        ? PageFileReader.ReadUnchecked(handle, entry.Directory.DataOffset, offsetInPage, destination)
                        : PageFileReader.ReadChecked(handle, entry.Directory.DataOffset, entry.Length, offsetInPage, destination);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    problem = "the page file is missing";
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    problem = e.Message;
                }
            }

            if (problem is not null)
            {
                Corrupt(entry, problem);
                return false;
            }

            entry.Directory.Touch(entry);
            _metrics.CacheHit();
            return true;
        }
        finally
        {
            Unpin(entry);
        }
    }

    // What a zero-copy send checks before the file's bytes go out unread (docs/storage.md, "Integrity").
    private string? CheckBeforeSending(PageEntry entry, SafeFileHandle handle, int pageLength, int offsetInPage, int count)
    {
        if (entry.Length != pageLength)
        {
            return $"it holds {entry.Length} bytes, the page has {pageLength}";
        }

        if (_options.ReadCheck == ReadCheck.None)
        {
            return null;
        }

        var status = PosixFiles.Stat(handle);
        if (status.Length != entry.DiskBytes)
        {
            return $"the page file is {status.Length} bytes, not {entry.DiskBytes}";
        }

        if (status.ChangedNs != entry.VerifiedChangeNs && CheckWhole(entry, handle) is { } changed)
        {
            return $"changed on disk since it was checked: {changed}";
        }

        return _options.ReadCheck == ReadCheck.BlocksAlways
            ? PageFileReader.CheckRange(handle, entry.Directory.DataOffset, entry.Length, offsetInPage, count)
            : null;
    }

    // Checks the whole file and, when intact, records the change time it had before the check began: a change during
    // the check moves it, so the next zero-copy send checks again.
    private static string? CheckWhole(PageEntry entry, SafeFileHandle handle)
    {
        var changedNs = PosixFiles.Stat(handle).ChangedNs;
        var problem = PageFileReader.CheckWhole(handle, entry.Directory.DataOffset, entry.Key.Index, entry.Length);
        if (problem is null)
        {
            entry.MarkVerified(changedNs);
        }

        return problem;
    }

    /// <summary>Checks a page whole now; a damaged page is dropped.</summary>
    private PageCheck CheckWholeNow(PageEntry entry)
    {
        if (!entry.TryPin())
        {
            return PageCheck.Gone;
        }

        try
        {
            string? problem;
            try
            {
                using var handle = File.OpenHandle(PathOf(entry), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                problem = CheckWhole(entry, handle);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                problem = "the page file is missing";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problem = e.Message;
            }

            if (problem is null)
            {
                return PageCheck.Intact;
            }

            Corrupt(entry, problem);
            return PageCheck.Damaged;
        }
        finally
        {
            Unpin(entry);
        }
    }

    private enum PageCheck
    {
        Intact,
        Damaged,

        /// <summary>The page left the cache before it could be checked.</summary>
        Gone,
    }

    // Every detection is counted and logged once (the page leaves the index with it), and healed: the next read
    // fetches the page from the under storage again.
    private bool Corrupt(PageEntry entry, string reason)
    {
        if (Remove(entry))
        {
            _metrics.ChecksumFailed();
            PageStoreLog.CorruptPage(_logger, entry.Key, entry.Directory.Root, reason);
        }

        return false;
    }

    // Takes a page out of the index and the quota; its file goes as soon as no reader holds it.
    private bool Remove(PageEntry entry)
    {
        if (!_index.TryRemove(new KeyValuePair<PageKey, PageEntry>(entry.Key, entry)))
        {
            return false;
        }

        entry.Directory.Forget(entry);
        if (entry.Doom())
        {
            DeletePageFile(entry);
        }

        return true;
    }

    private static void DeletePageFile(PageEntry entry) => CacheDirectory.TryDelete(PathOf(entry));
}
