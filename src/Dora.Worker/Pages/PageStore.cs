using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Dora.Core.Errors;
using Dora.Worker.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Dora.Worker.Pages;

/// <summary>
/// The worker's data cache: fixed-size pages of under-storage files kept as files in one or more cache directories.
/// A read of a cached page is a positioned read of its file; a miss reads the page from the under storage once, however
/// many readers want it, serves it, and writes it behind to disk. Corrupt pages are detected by checksum and refetched;
/// a directory that cannot be written is bypassed, so a reader always gets its bytes.
/// </summary>
public sealed class PageStore : IDisposable
{
    private static long s_generation = DateTime.UtcNow.Ticks;

    private readonly PageStoreOptions _options;
    private readonly WorkerMetrics _metrics;
    private readonly ILogger _logger;
    private readonly CacheDirectory[] _directories;
    private readonly CacheDirectoryLock?[] _locks;
    private readonly ConcurrentDictionary<PageKey, PageEntry> _index = new();
    private readonly Dictionary<PageKey, PageLoad> _loads = [];
    private readonly Lock _loadsLock = new();

    private PageStore(PageStoreOptions options, WorkerMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _directories = [.. options.Directories.Select(d => new CacheDirectory(d, options.Eviction))];
        _locks = new CacheDirectoryLock?[_directories.Length];
    }

    public int PageSize => _options.PageSize;

    public long CapacityBytes => _directories.Sum(d => d.QuotaBytes);

    public long UsedBytes => _directories.Sum(d => d.UsedBytes);

    public int PageCount => _index.Count;

    /// <summary>Under-storage page reads running now (misses and read-ahead).</summary>
    public int LoadsInFlight
    {
        get
        {
            lock (_loadsLock)
            {
                return _loads.Count;
            }
        }
    }

    /// <summary>Cache directories currently bypassed after a failure.</summary>
    public int UnavailableDirectories => _directories.Count(d => !d.IsAvailable);

    /// <summary>
    /// Opens the store: prepares every directory and indexes the pages an earlier run left, without reading their
    /// contents or the under storage (checksums are checked on each page's first read).
    /// </summary>
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
    /// its page file is written (or its write given up). Returns true when it was fetched now, false when it was cached
    /// already.
    /// </summary>
    public async ValueTask<bool> EnsureCachedAsync(PageSource source, long pageIndex, CancellationToken cancellationToken)
    {
        var pageLength = PageLength(source, pageIndex);
        var key = new PageKey(source.File, pageIndex);
        while (true)
        {
            if (_index.ContainsKey(key))
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
            return true;
        }
    }

    /// <summary>Drops one cached page, so the next read fetches it again from the under storage.</summary>
    /// <returns>True when the page was cached.</returns>
    public bool Drop(PageSource source, long pageIndex) =>
        _index.TryGetValue(new PageKey(source.File, pageIndex), out var entry) && Remove(entry);

    /// <summary>
    /// Checks a cached page now, reading its whole file against its checksum even when it was verified before. A page
    /// that is missing, short or damaged is dropped from the cache. False when the page is not cached intact.
    /// </summary>
    public bool VerifyNow(PageSource source, long pageIndex)
    {
        var key = new PageKey(source.File, pageIndex);
        if (!_index.TryGetValue(key, out var entry) || !entry.TryPin())
        {
            return false;
        }

        try
        {
            entry.Verified = false;
            return ReadPageFile(entry, PageLength(source, pageIndex), 0, Span<byte>.Empty);
        }
        finally
        {
            Unpin(entry);
        }
    }

    /// <summary>
    /// Opens a cached page for zero-copy sending, pinned until the result is disposed. Null when the page is not
    /// cached, or not yet checksum-verified since start-up (then <see cref="ReadAsync"/> reads and verifies it).
    /// </summary>
    public CachedPageFile? TryOpenVerified(PageSource source, long pageIndex)
    {
        var key = new PageKey(source.File, pageIndex);
        if (!_index.TryGetValue(key, out var entry) || !entry.Verified || !entry.TryPin())
        {
            return null;
        }

        FileStream? stream = null;
        try
        {
            if (entry.Length == PageLength(source, pageIndex))
            {
                // bufferSize 0: the stream is only a handle for sendfile, never read through a managed buffer; the
                // socket layer insists on an asynchronous handle.
                stream = new FileStream(entry.Directory.PathOf(entry.Key, entry.Generation), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous);
                if (stream.Length == PageFileFormat.HeaderSize + entry.Length)
                {
                    entry.Directory.Touch(entry);
                    _metrics.CacheHit();
                    var opened = stream;
                    stream = null;
                    return new CachedPageFile(opened, entry);
                }
            }

            Corrupt(entry, "the page file has the wrong length");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Corrupt(entry, "the page file is missing");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Corrupt(entry, e.Message);
        }

        stream?.Dispose();
        Unpin(entry);
        return null;
    }

    /// <summary>Releases a reader's pin; the last pin of a page evicted meanwhile deletes its file.</summary>
    internal static void Unpin(PageEntry entry)
    {
        if (entry.Unpin())
        {
            DeletePageFile(entry);
        }
    }

    /// <summary>Starts loading a page in the background unless it is cached or already loading (read-ahead).</summary>
    /// <returns>True when a load was started.</returns>
    public bool Prefetch(PageSource source, long pageIndex)
    {
        if (pageIndex < 0 || pageIndex * (long)PageSize >= source.Length)
        {
            return false;
        }

        // Sequential hits call this for every read: a cached page is ruled out without taking the lock.
        var key = new PageKey(source.File, pageIndex);
        if (_index.ContainsKey(key))
        {
            return false;
        }

        lock (_loadsLock)
        {
            FindOrStartLoadLocked(source, key, PageLength(source, pageIndex), waitingReader: false, out var started);
            return started;
        }
    }

    /// <summary>
    /// Waits until no page load is running: every page read so far is on disk (or was given up). Pages are written
    /// behind the readers, so this is what a caller awaits before relying on what the cache holds.
    /// </summary>
    public async Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task[] running;
            lock (_loadsLock)
            {
                running = [.. _loads.Values.Select(load => load.Finished)];
            }

            if (running.Length == 0)
            {
                return;
            }

            await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
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

    private bool TryReadCached(PageKey key, int pageLength, int offsetInPage, Span<byte> destination)
    {
        if (!_index.TryGetValue(key, out var entry) || !entry.TryPin())
        {
            return false;
        }

        var hit = false;
        try
        {
            hit = ReadPageFile(entry, pageLength, offsetInPage, destination);
            if (hit)
            {
                entry.Directory.Touch(entry);
                _metrics.CacheHit();
            }
        }
        finally
        {
            Unpin(entry);
        }

        return hit;
    }

    // Reads from the page file; on any sign of corruption the page is dropped and false returned (the caller refetches).
    private bool ReadPageFile(PageEntry entry, int pageLength, int offsetInPage, Span<byte> destination)
    {
        if (entry.Length != pageLength)
        {
            return Corrupt(entry, $"length {entry.Length}, expected {pageLength}");
        }

        var path = entry.Directory.PathOf(entry.Key, entry.Generation);
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (entry.Verified)
            {
                return ReadFully(handle, destination, PageFileFormat.HeaderSize + offsetInPage)
                    || Corrupt(entry, "the file is shorter than the page");
            }

            var imageLength = PageFileFormat.HeaderSize + entry.Length;
            var image = ArrayPool<byte>.Shared.Rent(imageLength);
            try
            {
                var span = image.AsSpan(0, imageLength);
                if (!ReadFully(handle, span, 0) || RandomAccess.GetLength(handle) != imageLength || !PageFileFormat.IsIntact(span, entry.Key.Index, entry.Length))
                {
                    return Corrupt(entry, "checksum mismatch");
                }

                entry.Verified = true;
                span.Slice(PageFileFormat.HeaderSize + offsetInPage, destination.Length).CopyTo(destination);
                return true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(image);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Corrupt(entry, "the page file is missing");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Corrupt(entry, e.Message);
        }
    }

    private static bool ReadFully(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0)
            {
                return false;
            }

            total += read;
        }

        return true;
    }

    private bool Corrupt(PageEntry entry, string reason)
    {
        _metrics.ChecksumFailed();
        PageStoreLog.CorruptPage(_logger, entry.Key, entry.Directory.Root, reason);
        Remove(entry);
        return false;
    }

    /// <summary>The load this reader now holds a reference to; null when the page turned out to be cached.</summary>
    private PageLoad? JoinOrStartLoad(PageSource source, PageKey key, int pageLength)
    {
        lock (_loadsLock)
        {
            var load = FindOrStartLoadLocked(source, key, pageLength, waitingReader: true, out var started);
            if (load is not null)
            {
                _metrics.CacheMiss();
                if (!started)
                {
                    load.AddReference();
                    _metrics.ReadCoalesced();
                }
            }

            return load;
        }
    }

    // Called under _loadsLock. The index is checked again under the lock: a load publishes its page before it leaves
    // the table, so nobody starts a second under-storage read of a page that was just cached (null is returned).
    private PageLoad? FindOrStartLoadLocked(PageSource source, PageKey key, int pageLength, bool waitingReader, out bool started)
    {
        started = false;
        if (_index.TryGetValue(key, out var cached) && !cached.IsRemoved)
        {
            return null;
        }

        if (_loads.TryGetValue(key, out var existing))
        {
            return existing;
        }

        // The loader holds one reference; a reader that will wait for the page holds another.
        var load = new PageLoad(initialReferences: waitingReader ? 2 : 1);
        _loads.Add(key, load);
        started = true;
        _ = RunLoadAsync(source, key, pageLength, load);
        return load;
    }

    // Runs without the reader's cancellation token: other readers may be waiting for the same page.
    private async Task RunLoadAsync(PageSource source, PageKey key, int pageLength, PageLoad load)
    {
        try
        {
            var buffer = load.RentBuffer(pageLength);
            var read = await source.Storage.ReadAsync(source.RelativePath, source.Fingerprint, key.Index * (long)PageSize, buffer.AsMemory(0, pageLength), CancellationToken.None).ConfigureAwait(false);
            _metrics.UfsRead(read);
            if (read != pageLength)
            {
                throw new UnderStorageException("/" + source.RelativePath, $"the file ended after {key.Index * (long)PageSize + read} bytes, but its status says {source.Length}; it is being changed", isTransient: true);
            }

            load.Succeed(read);
            Store(key, buffer.AsMemory(0, read));
        }
        catch (Exception e)
        {
            load.Fail(e);
        }
        finally
        {
            lock (_loadsLock)
            {
                _loads.Remove(key);
            }

            load.Release();
            load.Finish();
        }
    }

    private void Store(PageKey key, ReadOnlyMemory<byte> data)
    {
        var directory = PickDirectory(key);
        if (directory is null)
        {
            return;
        }

        var diskBytes = PageFileFormat.HeaderSize + (long)data.Length;
        var victims = new List<PageEntry>();
        var reserved = directory.TryReserve(diskBytes, victims);
        DiscardEvicted(victims);

        if (!reserved)
        {
            return;
        }

        var generation = Interlocked.Increment(ref s_generation);
        var path = directory.PathOf(key, generation);
        if (!TryWritePageFile(directory, path, key, data))
        {
            directory.CancelReservation(diskBytes);
            return;
        }

        var entry = new PageEntry(key, directory, generation, data.Length, verified: true);
        directory.Add(entry, Publish);
    }

    // Loads of one key never overlap and start only while the key is not indexed, so there is nothing to replace.
    private void Publish(PageEntry entry) => _index[entry.Key] = entry;

    private bool TryWritePageFile(CacheDirectory directory, string path, PageKey key, ReadOnlyMemory<byte> data)
    {
        var temporary = path + PageFileFormat.TemporaryExtension;
        var header = new byte[PageFileFormat.HeaderSize];
        try
        {
            PageFileFormat.WriteHeader(header, data.Length, PageFileFormat.Checksum(data.Span), key.Index);
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write);
            }
            catch (DirectoryNotFoundException)
            {
                // Bucket folders are made on first use (and again if something removed one).
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                handle = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write);
            }

            using (handle)
            {
                // One gathered write of header and data.
                RandomAccess.Write(handle, [header, data], 0);
            }

            // The rename is what makes the page visible: a crash before it leaves only a .tmp file, which the next
            // start-up deletes; a crash after it may leave a page the checksum rejects on its first read.
            File.Move(temporary, path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _metrics.CacheWriteFailed();
            directory.MarkDegraded(_options.DegradedRetryInterval);
            PageStoreLog.WriteFailed(_logger, directory.Root, _options.DegradedRetryInterval, e);
            CacheDirectory.TryDelete(temporary);
            return false;
        }
    }

    private CacheDirectory? PickDirectory(PageKey key)
    {
        // The key decides the preferred directory, so pages spread evenly; an unavailable one passes to the next.
        var start = (int)((ulong)(key.File.Value ^ (UInt128)(ulong)key.Index) % (ulong)_directories.Length);
        for (var i = 0; i < _directories.Length; i++)
        {
            var directory = _directories[(start + i) % _directories.Length];
            if (directory.IsAvailable)
            {
                return directory;
            }
        }

        return null;
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

    private static void DeletePageFile(PageEntry entry) => CacheDirectory.TryDelete(entry.Directory.PathOf(entry.Key, entry.Generation));

    // Every directory is locked before any is read or changed, so a second worker on a live directory fails without
    // deleting or adopting a page of it. A directory that cannot even be created is left unlocked and bypassed.
    private void LockDirectories()
    {
        for (var i = 0; i < _directories.Length; i++)
        {
            try
            {
                _locks[i] = CacheDirectoryLock.Acquire(_directories[i].Root);
            }
            catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && e is not CacheDirectoryInUseException))
            {
                _directories[i].MarkDegraded(_options.DegradedRetryInterval);
                PageStoreLog.DirectoryUnusable(_logger, _directories[i].Root, e);
            }
        }
    }

    private void Recover()
    {
        var clock = Stopwatch.StartNew();
        var recovered = 0;
        long bytes = 0;
        for (var i = 0; i < _directories.Length; i++)
        {
            var directory = _directories[i];
            if (_locks[i] is null)
            {
                continue;
            }

            try
            {
                directory.Prepare(PageSize);
                foreach (var page in directory.Scan(PageSize))
                {
                    var entry = new PageEntry(page.Key, directory, page.Generation, page.Length, verified: false);
                    if (_index.TryAdd(page.Key, entry))
                    {
                        directory.AddRecovered(entry);
                        recovered++;
                        bytes += entry.DiskBytes;
                    }
                    else
                    {
                        // The same page in two directories (directories were reordered): keep one.
                        DeletePageFile(entry);
                    }
                }

                EnforceQuota(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                directory.MarkDegraded(_options.DegradedRetryInterval);
                PageStoreLog.DirectoryUnusable(_logger, directory.Root, e);
            }
        }

        PageStoreLog.Opened(_logger, recovered, bytes, _directories.Length, clock.ElapsedMilliseconds);
    }

    // A quota lowered since the last run is honoured at once.
    private void EnforceQuota(CacheDirectory directory)
    {
        if (directory.UsedBytes <= directory.QuotaBytes)
        {
            return;
        }

        var victims = new List<PageEntry>();
        directory.TryReserve(0, victims);
        DiscardEvicted(victims);
    }

    // Pages a directory evicted (already out of its quota and order) leave the index and the disk.
    private void DiscardEvicted(List<PageEntry> victims)
    {
        foreach (var victim in victims)
        {
            _index.TryRemove(new KeyValuePair<PageKey, PageEntry>(victim.Key, victim));
            DeletePageFile(victim);
            _metrics.Evicted();
        }
    }
}
