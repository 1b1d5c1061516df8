using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Core.UnderStorage;
using Dora.Worker.Metadata;
using Dora.Worker.Metrics;
using Dora.Worker.Pages;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.Reading;

/// <summary>
/// The worker's read path: path -> mount -> metadata (memory, RocksDB, under storage) -> pages (hit, or read through
/// once and cached) -> bytes. Sequential readers get the next pages fetched ahead of them.
/// </summary>
public sealed class StorageEngine : IDisposable
{
    private readonly StorageEngineOptions _options;
    private readonly SequentialReadDetector _sequential;

    public StorageEngine(MountTable mounts, PageStoreOptions pageOptions, MetadataOptions metadataOptions, StorageEngineOptions options, WorkerMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Mounts = mounts;
        Metrics = metrics;
        Pages = PageStore.Open(pageOptions, metrics, logger);
        try
        {
            Metadata = new MetadataStore(metadataOptions, metrics, DropOldPages, clock: null, logger);
        }
        catch
        {
            Pages.Dispose();
            throw;
        }

        _sequential = new SequentialReadDetector(options.ReadAheadTrackedFiles);
        var meter = metrics.Meter;
        meter.CreateObservableGauge("dora.cache.used", () => Pages.UsedBytes, "By", "Bytes of pages on disk, headers included.");
        meter.CreateObservableGauge("dora.cache.capacity", () => Pages.CapacityBytes, "By", "Sum of the cache directories' quotas.");
        meter.CreateObservableGauge("dora.cache.pages", () => Pages.PageCount, description: "Pages in the cache.");
        meter.CreateObservableGauge("dora.cache.directories_unavailable", () => Pages.UnavailableDirectories, description: "Cache directories bypassed after a failure.");
        meter.CreateObservableGauge("dora.cache.loads_in_flight", () => Pages.LoadsInFlight, description: "Page loads from the under storage running or waiting for one of the worker's slots.");
        meter.CreateObservableGauge("dora.metadata.memory_entries", () => Metadata.MemoryEntries, description: "Metadata entries held in memory.");
    }

    public MountTable Mounts { get; }

    public PageStore Pages { get; }

    public MetadataStore Metadata { get; }

    public WorkerMetrics Metrics { get; }

    public async ValueTask<UfsFileStatus> GetStatusAsync(DoraPath path, CancellationToken cancellationToken) =>
        await Metadata.GetStatusAsync(Mounts.Resolve(path), cancellationToken).ConfigureAwait(false);

    public async ValueTask<FileInfoResult> GetInfoAsync(DoraPath path, CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(path, cancellationToken).ConfigureAwait(false);
        var cached = status.IsDirectory ? 0 : Pages.CachedBytes(FileKey.For(path, status.Fingerprint), status.Length);
        return new FileInfoResult(path, status, cached);
    }

    public ValueTask<UfsListingPage> ListAsync(DoraPath path, string? after, int limit, CancellationToken cancellationToken) =>
        Metadata.ListAsync(Mounts.Resolve(path), after, limit, cancellationToken);

    /// <summary>Looks the file up once for a series of reads.</summary>
    /// <exception cref="InvalidPathException">The path is a directory.</exception>
    public ValueTask<OpenedFile> OpenAsync(DoraPath path, CancellationToken cancellationToken) => OpenAsync(path, expectedVersion: null, cancellationToken);

    /// <summary>
    /// Looks the file up once for a series of reads that must all come from <paramref name="expectedVersion"/> (its
    /// <c>etag</c>, as an earlier status gave it), or from whatever version it is now when that is null. A cached status
    /// of another version is checked against the under storage before the request is refused.
    /// </summary>
    /// <exception cref="InvalidPathException">The path is a directory.</exception>
    /// <exception cref="VersionMismatchException">The file is not <paramref name="expectedVersion"/> any more.</exception>
    public async ValueTask<OpenedFile> OpenAsync(DoraPath path, string? expectedVersion, CancellationToken cancellationToken)
    {
        var resolved = Mounts.Resolve(path);
        var status = await Metadata.GetStatusAsync(resolved, cancellationToken).ConfigureAwait(false);
        if (expectedVersion is not null && !status.IsDirectory && status.ETag != expectedVersion)
        {
            Metadata.Invalidate(path, recursive: false);
            status = await Metadata.GetStatusAsync(resolved, cancellationToken).ConfigureAwait(false);
            if (!status.IsDirectory && status.ETag != expectedVersion)
            {
                throw new VersionMismatchException(path.Value, expectedVersion, status.ETag);
            }
        }

        if (status.IsDirectory)
        {
            throw new InvalidPathException(path.Value, "it is a directory, not a file");
        }

        var source = new PageSource(FileKey.For(path, status.Fingerprint), status.Length, resolved.Mount.Storage, resolved.RelativePath, status.Fingerprint);
        return new OpenedFile(path, status, source);
    }

    /// <summary>True when every page of <c>[offset, end)</c> is cached (reading it needs no under-storage read).</summary>
    public bool IsCached(OpenedFile file, long offset, long end)
    {
        ArgumentNullException.ThrowIfNull(file);
        (long first, long count) = PagesOf(offset, end);
        for (long page = first; page < first + count; page++)
        {
            if (!Pages.IsCached(file.Source, page))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// For a response that cannot report a failure once started: when reading <c>[offset, end)</c> needs the under storage
    /// and the mount is not immutable, the file's status is checked against the under storage first (see
    /// <see cref="RevalidateAsync"/>), so a file replaced since its status was cached is served whole from its new
    /// version instead of failing midway. A fully cached range is served from its cached version without a look.
    /// </summary>
    public async ValueTask<OpenedFile> RevalidateUnlessCachedAsync(OpenedFile file, long offset, long end, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        // An always-mode open has just looked; an immutable mount never changes.
        if (IsCached(file, offset, end) || Mounts.Resolve(file.Path).Mount.Consistency is ConsistencyMode.Immutable or ConsistencyMode.Always)
        {
            return file;
        }

        return await RevalidateAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The file as the under storage has it now: its status is looked at again (whatever the mount's consistency mode),
    /// and a changed file's old pages are dropped. Returns <paramref name="file"/> itself when it did not change.
    /// </summary>
    public async ValueTask<OpenedFile> RevalidateAsync(OpenedFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        var resolved = Mounts.Resolve(file.Path);
        UfsFileStatus current;
        try
        {
            current = await resolved.Mount.Storage.StatAsync(resolved.RelativePath, cancellationToken).ConfigureAwait(false);
        }
        catch (DoraFileNotFoundException)
        {
            Metadata.Invalidate(file.Path, recursive: false);
            throw;
        }

        if (current.Fingerprint == file.Status.Fingerprint)
        {
            return file;
        }

        Metadata.Invalidate(file.Path, recursive: false);
        return await OpenAsync(file.Path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads bytes at <paramref name="offset"/> into <paramref name="destination"/>; returns the count, 0 at the end.</summary>
    public async ValueTask<int> ReadAsync(DoraPath path, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var file = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(file, offset, destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pages one LOAD fetches at the same time.</summary>
    private const int LoadWindow = 4;

    /// <summary>
    /// Caches every page that <c>[offset, offset + length)</c> touches (to the end of the file when length is null),
    /// fetching up to four pages at a time and nothing outside the range. Returns once the pages are on disk. With
    /// <paramref name="refresh"/>, the file's status is checked against the under storage again and the range's cached
    /// pages are dropped first, so every page is fetched anew.
    /// </summary>
    public async Task<LoadReply> LoadAsync(DoraPath path, long offset, long? length, bool refresh, CancellationToken cancellationToken)
    {
        if (refresh)
        {
            Invalidate(path, recursive: false);
        }

        OpenedFile file = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        long end = file.RangeEnd(offset, length);
        (long first, long count) = PagesOf(offset, end);
        if (refresh)
        {
            for (long page = first; page < first + count; page++)
            {
                Pages.Drop(file.Source, page);
            }
        }

        long fetched = 0;
        var window = new Queue<Task<bool>>();
        for (long page = first; page < first + count; page++)
        {
            if (window.Count == LoadWindow && await window.Dequeue().ConfigureAwait(false))
            {
                fetched++;
            }

            window.Enqueue(Pages.EnsureCachedAsync(file.Source, page, cancellationToken).AsTask());
        }

        while (window.Count > 0)
        {
            if (await window.Dequeue().ConfigureAwait(false))
            {
                fetched++;
            }
        }

        return new LoadReply(path.Value, offset, end - offset, count, fetched, count - fetched);
    }

    /// <summary>Checks every page of the range against its checksum (after pending page writes finish).</summary>
    public async Task<VerifyReply> VerifyAsync(DoraPath path, long offset, long? length, CancellationToken cancellationToken)
    {
        OpenedFile file = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        long end = file.RangeEnd(offset, length);
        (long first, long count) = PagesOf(offset, end);
        await Pages.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
        var missing = new List<long>();
        long intact = 0;
        for (long page = first; page < first + count; page++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Pages.VerifyNow(file.Source, page))
            {
                intact++;
            }
            else if (missing.Count < 100)
            {
                missing.Add(page);
            }
        }

        return new VerifyReply(path.Value, offset, end - offset, count, intact, missing);
    }

    /// <summary>The first page and the number of pages that <c>[offset, end)</c> touches.</summary>
    private (long First, long Count) PagesOf(long offset, long end) =>
        end <= offset ? (offset / Pages.PageSize, 0) : (offset / Pages.PageSize, ((end - 1) / Pages.PageSize) - (offset / Pages.PageSize) + 1);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>, or fails naming where the file ended.</summary>
    /// <exception cref="IOException">The file is shorter than the range (it changed while being read).</exception>
    public async ValueTask ReadExactlyAsync(OpenedFile file, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int read = await ReadAsync(file, offset, destination, cancellationToken).ConfigureAwait(false);
        if (read != destination.Length)
        {
            throw new IOException($"'{file.Path}' ended at {offset + read} bytes while {offset + destination.Length} were expected (changed while reading?)");
        }
    }

    /// <summary>Reads bytes of an opened file; the count is short only at the end of the file.</summary>
    /// <exception cref="InvalidRangeException">The offset lies past the end of the file.</exception>
    public async ValueTask<int> ReadAsync(OpenedFile file, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (offset < 0 || offset > file.Length)
        {
            throw new InvalidRangeException(file.Path.Value, offset, destination.Length, file.Length);
        }

        var count = (int)Math.Min(destination.Length, file.Length - offset);
        var pageSize = Pages.PageSize;
        var done = 0;
        try
        {
            while (done < count)
            {
                var position = offset + done;
                var pageIndex = position / pageSize;
                var inPage = (int)(position % pageSize);
                done += await Pages.ReadAsync(file.Source, pageIndex, inPage, destination[done..count], cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FileChangedException)
        {
            Metrics.FileChanged();
            // The status this read was opened with is stale: the next open looks at the file again and reads the new
            // version whole, instead of failing like this one until the mount's TTL runs out.
            Metadata.Invalidate(file.Path, recursive: false);
            throw;
        }

        NoteRead(file, offset, count);
        return count;
    }

    /// <summary>
    /// Records a read served outside <see cref="ReadAsync(OpenedFile, long, Memory{byte}, CancellationToken)"/>
    /// (zero-copy page sends), so sequential readers still get read-ahead.
    /// </summary>
    public void NoteRead(OpenedFile file, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (count > 0 && _options.ReadAheadPages > 0 && _sequential.Record(file.Source.File, offset, count))
        {
            ReadAhead(file.Source, (offset + count - 1) / Pages.PageSize);
        }
    }

    /// <summary>Makes the next access to the path (or everything below it) check the under storage again.</summary>
    public void Invalidate(DoraPath path, bool recursive) => Metadata.Invalidate(path, recursive);

    /// <summary>
    /// Forgets what is cached about the path (with <paramref name="recursive"/>, about everything below it too) and looks
    /// at it again in the under storage now: when the file is another version than the one cached, the old version's
    /// pages are dropped at once. Below a recursive invalidation's path, each file is looked at on its next access, and
    /// its old pages dropped then.
    /// </summary>
    public async Task<InvalidateReply> InvalidateAsync(DoraPath path, bool recursive, CancellationToken cancellationToken)
    {
        var before = Metadata.PeekStatus(path);
        long oldPages = before is { IsDirectory: false } ? Pages.CachedPages(FileKey.For(path, before.Fingerprint), before.Length) : 0;
        Metadata.Invalidate(path, recursive);
        UfsFileStatus? now;
        try
        {
            now = await GetStatusAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (DoraFileNotFoundException)
        {
            now = null;
        }

        bool changed = before is { IsDirectory: false } && (now is null || now.Fingerprint != before.Fingerprint);
        return new InvalidateReply(path.Value, recursive, now is not null, now?.ETag, changed ? oldPages : 0);
    }

    /// <summary>Drops the cached pages of the file's current version.</summary>
    /// <exception cref="InvalidPathException">The path is a directory.</exception>
    public async ValueTask<EvictReply> EvictAsync(DoraPath path, CancellationToken cancellationToken)
    {
        var file = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        return new EvictReply(path.Value, Pages.DropFile(file.Source.File, file.Length));
    }

    public void Dispose()
    {
        Metadata.Dispose();
        Pages.Dispose();
    }

    private void ReadAhead(PageSource source, long lastPageRead)
    {
        // Pages fetched ahead that cannot be stored would be fetched again when the reader gets there.
        if (Pages.UnavailableDirectories > 0)
        {
            return;
        }

        for (var i = 1; i <= _options.ReadAheadPages; i++)
        {
            if (Pages.LoadsInFlight >= _options.MaxConcurrentLoadsForReadAhead)
            {
                return;
            }

            if (Pages.Prefetch(source, lastPageRead + i))
            {
                Metrics.ReadAheadStarted();
            }
        }
    }

    private void DropOldPages(DoraPath path, UfsFileStatus old) => Pages.DropFile(FileKey.For(path, old.Fingerprint), old.Length);
}
