using System.Diagnostics;
using Dora.Core.Errors;

namespace Dora.Worker.Pages;

/// <summary>Misses: one under-storage read per page however many want it, a worker-wide bound on reads running, writes behind the readers.</summary>
public sealed partial class PageStore
{
    private static long s_generation = DateTime.UtcNow.Ticks;

    private readonly Dictionary<PageKey, PageLoad> _loads = [];
    private readonly Lock _loadsLock = new();

    /// <summary>Under-storage reads allowed to run at once across the worker (<see cref="PageStoreOptions.MaxConcurrentLoads"/>).</summary>
    private readonly SemaphoreSlim _loadSlots;

    /// <summary>Page loads in flight: running, or waiting for one of the worker's under-storage read slots.</summary>
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

        PageLoad? load;
        bool started;
        lock (_loadsLock)
        {
            load = FindOrAddLoadLocked(source, key, PageLength(source, pageIndex), waitingReader: false, out started);
        }

        if (started)
        {
            // The reader that triggered read-ahead does not wait for these pages: the thread pool starts them.
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.store.RunLoadAsync(state.load), (store: this, load: load!), preferLocal: false);
        }

        return started;
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

    /// <summary>The load this reader now holds a reference to; null when the page turned out to be cached.</summary>
    private PageLoad? JoinOrStartLoad(PageSource source, PageKey key, int pageLength)
    {
        PageLoad? load;
        bool started;
        lock (_loadsLock)
        {
            load = FindOrAddLoadLocked(source, key, pageLength, waitingReader: true, out started);
            if (load is null)
            {
                return null;
            }

            if (!started)
            {
                load.AddReference();
            }
        }

        _metrics.CacheMiss();
        if (started)
        {
            // Started outside the lock: nothing of the under-storage read (open, stat, read) runs while it is held.
            _ = RunLoadAsync(load);
        }
        else
        {
            _metrics.ReadCoalesced();
        }

        return load;
    }

    // Called under _loadsLock; only registers the load. The index is checked again under the lock: a load publishes
    // its page before it leaves the table, so nobody starts a second under-storage read of a page just cached.
    private PageLoad? FindOrAddLoadLocked(PageSource source, PageKey key, int pageLength, bool waitingReader, out bool started)
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
        var load = new PageLoad(source, key, pageLength, initialReferences: waitingReader ? 2 : 1);
        _loads.Add(key, load);
        started = true;
        return load;
    }

    // Runs without any reader's cancellation token: other readers may be waiting for the same page.
    private async Task RunLoadAsync(PageLoad load)
    {
        try
        {
            int read;
            await _loadSlots.WaitAsync().ConfigureAwait(false);
            try
            {
                var buffer = load.RentBuffer();
                var source = load.Source;
                var offset = load.Key.Index * (long)PageSize;
                long started = Stopwatch.GetTimestamp();
                read = await source.Storage.ReadAsync(source.RelativePath, source.Fingerprint, offset, buffer.AsMemory(0, load.PageLength), CancellationToken.None).ConfigureAwait(false);
                _metrics.UfsCallTook(Stopwatch.GetElapsedTime(started), "read");
                _metrics.UfsRead(read);
                if (read != load.PageLength)
                {
                    throw new FileChangedException("/" + source.RelativePath, $"it ended after {offset + read} bytes, but its status says {source.Length}");
                }
            }
            finally
            {
                _loadSlots.Release();
            }

            load.Succeed(read);
        }
        catch (Exception e)
        {
            load.Fail(e);
        }

        try
        {
            if (load.Completion.IsCompletedSuccessfully)
            {
                Store(load);
            }
        }
        catch (Exception e)
        {
            // Readers have their bytes already; what must not happen is a loss nobody hears of.
            load.NotCachedReason = $"{e.GetType().Name}: {e.Message}";
            _metrics.CacheWriteFailed();
            PageStoreLog.StoreFailed(_logger, load.Key, e);
        }
        finally
        {
            lock (_loadsLock)
            {
                _loads.Remove(load.Key);
            }

            load.Release();
            load.Finish();
        }
    }

    private void Store(PageLoad load)
    {
        var directory = PickDirectory(load.Key);
        if (directory is null)
        {
            load.NotCachedReason = "every cache directory is unavailable after a failure";
            return;
        }

        var diskBytes = directory.DataOffset + (long)load.Length;
        var victims = new List<PageEntry>();
        var reserved = directory.TryReserve(diskBytes, victims);
        DiscardEvicted(victims);
        if (!reserved)
        {
            load.NotCachedReason = $"the cache directory '{directory.Root}' has no room: its quota is taken by pages being read";
            return;
        }

        var generation = Interlocked.Increment(ref s_generation);
        long changedNs;
        try
        {
            changedNs = PageFileWriter.Write(directory.PathOf(load.Key, generation), directory.DataOffset, load.Key.Index, load.Data);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            directory.CancelReservation(diskBytes);
            load.NotCachedReason = $"writing it to '{directory.Root}' failed: {e.Message}";
            _metrics.CacheWriteFailed();
            if (e is FileNotFoundException)
            {
                // Something removed the temporary file mid-write: this page is lost, the directory is fine. (A folder
                // that cannot be made again, by contrast, fails every write: that bypasses the directory.)
                PageStoreLog.PageWriteLost(_logger, load.Key, directory.Root, e.Message);
                return;
            }

            directory.MarkDegraded(_options.DegradedRetryInterval, $"a page write failed ({e.Message}); retried after {_options.DegradedRetryInterval.TotalSeconds:0} s");
            PageStoreLog.WriteFailed(_logger, directory.Root, _options.DegradedRetryInterval, e);
            return;
        }

        var entry = new PageEntry(load.Key, directory, generation, load.Length);
        entry.MarkVerified(changedNs);
        directory.Add(entry, Publish);
    }

    // Loads of one key never overlap and start only while the key is not indexed, so there is nothing to replace.
    private void Publish(PageEntry entry) => _index[entry.Key] = entry;

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
