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
            Metadata = new MetadataStore(metadataOptions, metrics, DropOldPages);
        }
        catch
        {
            Pages.Dispose();
            throw;
        }

        _sequential = new SequentialReadDetector(options.ReadAheadTrackedFiles);
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
    public async ValueTask<OpenedFile> OpenAsync(DoraPath path, CancellationToken cancellationToken)
    {
        var resolved = Mounts.Resolve(path);
        var status = await Metadata.GetStatusAsync(resolved, cancellationToken).ConfigureAwait(false);
        if (status.IsDirectory)
        {
            throw new InvalidPathException(path.Value, "it is a directory, not a file");
        }

        var source = new PageSource(FileKey.For(path, status.Fingerprint), status.Length, resolved.Mount.Storage, resolved.RelativePath, status.Fingerprint);
        return new OpenedFile(path, status, source);
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
        while (done < count)
        {
            var position = offset + done;
            var pageIndex = position / pageSize;
            var inPage = (int)(position % pageSize);
            done += await Pages.ReadAsync(file.Source, pageIndex, inPage, destination[done..count], cancellationToken).ConfigureAwait(false);
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

    /// <summary>Drops the cached pages of the file's current version; returns how many were dropped.</summary>
    /// <exception cref="InvalidPathException">The path is a directory.</exception>
    public async ValueTask<int> EvictAsync(DoraPath path, CancellationToken cancellationToken)
    {
        var file = await OpenAsync(path, cancellationToken).ConfigureAwait(false);
        return Pages.DropFile(file.Source.File, file.Length);
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
