using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dora.Client.Internal;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Core.UnderStorage;
using Dora.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Client;

/// <summary>
/// Reads Dora from inside an application: follows the cluster's membership, computes each path's owner with the same
/// ring as every worker, and talks to workers over the page stream with pooled, multiplexed connections. When the
/// owner fails, the request moves to the next worker on the ring and then, if configured, to the under storage.
/// </summary>
public sealed partial class DoraClient : IAsyncDisposable
{
    private readonly DoraClientOptions _options;
    private readonly ILogger _logger;
    private readonly WorkerConnectionPool _pool;

    private DoraClient(ClusterView cluster, DoraClientOptions options, ILogger logger)
    {
        Cluster = cluster;
        _options = options;
        _logger = logger;
        _pool = new WorkerConnectionPool(options);
        Cluster.RingChanged += OnRingChanged;
    }

    /// <summary>The membership and ring the client routes by.</summary>
    public ClusterView Cluster { get; }

    /// <summary>Reads, bytes and fallbacks so far.</summary>
    public ClientMetrics Metrics { get; } = new();

    /// <summary>Follows <paramref name="registry"/>'s membership and returns a ready client.</summary>
    /// <exception cref="RegistryUnavailableException">The registry cannot be read.</exception>
    public static async Task<DoraClient> ConnectAsync(IClusterRegistry registry, DoraClientOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        options ??= new DoraClientOptions();
        options.Validate();
        logger ??= NullLogger.Instance;
        ClusterView cluster = await ClusterView.StartAsync(registry, options.Cluster, logger, cancellationToken).ConfigureAwait(false);
        if (options.UnderStorageMounts is { } mounts && options.FallbackToUnderStorage)
        {
            // Falling back to stores other than the workers' would read other bytes: refuse at once, naming both tables.
            try
            {
                MountAgreement.Check(mounts.Describe(), cluster.Membership, "this client");
            }
            catch
            {
                await cluster.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        return new DoraClient(cluster, options, logger);
    }

    /// <summary>
    /// Reads up to <paramref name="destination"/>.Length bytes of <paramref name="path"/> at <paramref name="offset"/>
    /// into <paramref name="destination"/>; returns the count, short only at the end of the file (0 at the end).
    /// </summary>
    /// <exception cref="InvalidPathException">The path is not a valid Dora path.</exception>
    /// <exception cref="DoraFileNotFoundException">No such file.</exception>
    /// <exception cref="WorkerRequestException">A permanent error (bad range, a directory), or every attempt failed.</exception>
    public Task<int> ReadAsync(string path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        ReadAsync(path, offset, destination, version: null, cancellationToken);

    /// <summary>
    /// Like <see cref="ReadAsync(string, long, Memory{byte}, CancellationToken)"/>, with every byte from
    /// <paramref name="version"/> (the <c>etag</c> a STAT gave) when it is not null: a reader that reads a file in
    /// several requests gets one version of it, or an error, never a mix.
    /// </summary>
    /// <exception cref="WorkerRequestException">The file is no longer that version (code <see cref="ErrorCode.VersionMismatch"/>).</exception>
    public async Task<int> ReadAsync(string path, long offset, Memory<byte> destination, string? version, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            return 0;
        }

        (bool served, int read, Exception? lastError, int tried) = await OnOwnersAsync<int, ReadOperation>(new ReadOperation(doraPath.Value, offset, destination, version), cancellationToken).ConfigureAwait(false);
        if (served)
        {
            Metrics.Read(read);
            return read;
        }

        if (_options.FallbackToUnderStorage && _options.UnderStorageMounts is { } mounts)
        {
            read = await ReadUnderStorageAsync(mounts.Resolve(doraPath), offset, destination, version, cancellationToken).ConfigureAwait(false);
            Metrics.UnderStorageFallback();
            Metrics.Read(read);
            return read;
        }

        throw NoWorkerAnswered(doraPath.Value, tried, lastError);
    }

    /// <summary>
    /// Like <see cref="ReadAsync(string, long, Memory{byte}, CancellationToken)"/>, blocking the calling thread, for
    /// synchronous stream readers. Fails over between workers the same way; the direct under-storage fallback is only
    /// taken by the asynchronous reads.
    /// </summary>
    public int Read(string path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default) =>
        Read(path, offset, destination, version: null, cancellationToken);

    /// <summary>Like <see cref="Read(string, long, Memory{byte}, CancellationToken)"/>, with every byte from <paramref name="version"/> when it is not null.</summary>
    public int Read(string path, long offset, Memory<byte> destination, string? version, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (destination.IsEmpty)
        {
            return 0;
        }

        WorkerRecord[] owners = _pool.ReachableFirst(Cluster.OwnersOf(doraPath.Value, _options.MaxWorkerAttempts));
        Exception? lastError = null;
        for (int attempt = 0; attempt < owners.Length; attempt++)
        {
            try
            {
                int read = _pool.Get(owners[attempt], cancellationToken).Read(doraPath.Value, offset, destination, version, cancellationToken);
                Metrics.Read(read);
                return read;
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                lastError = Failed(owners, attempt, doraPath.Value, e);
            }
        }

        throw NoWorkerAnswered(doraPath.Value, owners.Length, lastError);
    }

    /// <summary>The status of a file or directory, from its owner (with how many of its bytes are cached there).</summary>
    public async Task<StatReply> StatAsync(string path, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        byte[] body = await QueryAsync(FrameType.Stat, doraPath.Value, after: null, limit: 0, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.StatReply)
            ?? throw new WorkerRequestException("?", null, "an empty STAT answer", isTransient: true);
    }

    /// <summary>One page of a directory listing, in name order, from the directory's owner.</summary>
    public async Task<ListReply> ListAsync(string path, string? after = null, int limit = 1000, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, ProtocolConstants.MaxListLimit);
        byte[] body = await QueryAsync(FrameType.List, doraPath.Value, after, limit, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.ListReply)
            ?? throw new WorkerRequestException("?", null, "an empty LIST answer", isTransient: true);
    }

    /// <summary>The health and cache state of one worker, asked over its page stream (no failover: it is about that worker).</summary>
    public async Task<HealthReply> HealthAsync(WorkerRecord worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        PageStreamConnection connection = await _pool.GetAsync(worker, cancellationToken).ConfigureAwait(false);
        byte[] body = await connection.QueryAsync(FrameType.Health, string.Empty, after: null, limit: 0, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.HealthReply)
            ?? throw new WorkerRequestException(worker.Id, null, "an empty HEALTH answer", isTransient: true);
    }

    /// <summary>
    /// Has <paramref name="worker"/> cache every page of <c>[offset, offset + length)</c> of a file (length null: to the
    /// end); with <paramref name="refresh"/> it fetches them anew even when cached. Sent to that worker only, with no
    /// failover: the caller chose it as the range's owner.
    /// </summary>
    public async Task<LoadReply> LoadAsync(WorkerRecord worker, string path, long offset = 0, long? length = null, bool refresh = false, CancellationToken cancellationToken = default)
    {
        byte[] body = await RangeQueryAsync(worker, FrameType.Load, path, offset, length, refresh ? ProtocolConstants.LoadRefresh : (byte)0, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.LoadReply)
            ?? throw new WorkerRequestException(worker.Id, null, "an empty LOAD answer", isTransient: true);
    }

    /// <summary>Asks <paramref name="worker"/> whether every page of the range is cached with a valid checksum.</summary>
    public async Task<VerifyReply> VerifyAsync(WorkerRecord worker, string path, long offset = 0, long? length = null, CancellationToken cancellationToken = default)
    {
        byte[] body = await RangeQueryAsync(worker, FrameType.Verify, path, offset, length, 0, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.VerifyReply)
            ?? throw new WorkerRequestException(worker.Id, null, "an empty VERIFY answer", isTransient: true);
    }

    /// <summary>
    /// Asks <paramref name="worker"/> where the cached pages of <c>[offset, offset + length)</c> of the file's
    /// <paramref name="version"/> are on its disk (at most <see cref="ProtocolConstants.MaxLocatePages"/> pages), for
    /// a reader on the same host that reads page files itself (<see cref="LocalPageReader"/>). No failover: it is about
    /// that worker's disk.
    /// </summary>
    public async Task<LocateReply> LocateAsync(WorkerRecord worker, string path, long offset, long length, string version, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        byte[] body = await RangeQueryAsync(worker, FrameType.Locate, path, offset, length, 0, cancellationToken, version).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ProtocolJson.Default.LocateReply)
            ?? throw new WorkerRequestException(worker.Id, null, "an empty LOCATE answer", isTransient: true);
    }

    /// <summary>The owner of a path, unless connecting to it failed lately (then null).</summary>
    internal WorkerRecord? ReachableOwnerOf(string path) =>
        Cluster.OwnersOf(path, 1) is [var owner] && !_pool.IsUnreachable(owner.Id) ? owner : null;

    private async Task<byte[]> RangeQueryAsync(WorkerRecord worker, FrameType type, string path, long offset, long? length, byte loadFlags, CancellationToken cancellationToken, string? version = null)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length ?? 0);
        DoraPath doraPath = DoraPath.Parse(path);
        PageStreamConnection connection = await _pool.GetAsync(worker, cancellationToken).ConfigureAwait(false);
        return await connection.RangeQueryAsync(type, doraPath.Value, offset, length ?? -1, loadFlags, cancellationToken, version).ConfigureAwait(false);
    }

    /// <summary>
    /// Has every worker forget what it cached about <paramref name="path"/> (with <paramref name="recursive"/>, about
    /// everything below it too) and look at it again in the under storage; a file found changed loses its old pages at
    /// once. Every worker is asked, not only the owner, so that none can serve a stale status after a failover. Returns
    /// the owner's answer with the dropped pages of all workers added up.
    /// </summary>
    /// <exception cref="WorkerRequestException">A worker could not be reached or refused; the message names each.</exception>
    public async Task<InvalidateReply> InvalidateAsync(string path, bool recursive = false, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        byte flags = recursive ? ProtocolConstants.InvalidateRecursive : (byte)0;
        (WorkerRecord Worker, InvalidateReply Reply)[] replies = await OnEveryWorkerAsync(
            doraPath.Value, FrameType.Invalidate, flags, ProtocolJson.Default.InvalidateReply, cancellationToken).ConfigureAwait(false);
        string owner = Cluster.OwnerOf(doraPath.Value).Id;
        InvalidateReply answer = Array.Find(replies, r => r.Worker.Id == owner).Reply ?? replies[0].Reply;
        return answer with { DroppedPages = replies.Sum(r => r.Reply.DroppedPages) };
    }

    /// <summary>Drops the cached pages of the file's current version on every worker; returns how many in all.</summary>
    /// <exception cref="WorkerRequestException">A worker could not be reached or refused; the message names each.</exception>
    public async Task<EvictReply> EvictAsync(string path, CancellationToken cancellationToken = default)
    {
        DoraPath doraPath = DoraPath.Parse(path);
        (WorkerRecord Worker, EvictReply Reply)[] replies = await OnEveryWorkerAsync(
            doraPath.Value, FrameType.Evict, 0, ProtocolJson.Default.EvictReply, cancellationToken).ConfigureAwait(false);
        return new EvictReply(doraPath.Value, replies.Sum(r => r.Reply.DroppedPages));
    }

    private async Task<(WorkerRecord Worker, T Reply)[]> OnEveryWorkerAsync<T>(
        string path, FrameType type, byte flags, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json, CancellationToken cancellationToken)
    {
        IReadOnlyList<WorkerRecord> workers = Cluster.Membership.Workers;
        if (workers.Count == 0)
        {
            throw new NoWorkersException();
        }

        var asks = new Task<byte[]>[workers.Count];
        for (int i = 0; i < asks.Length; i++)
        {
            asks[i] = AskAsync(workers[i]);
        }

        try
        {
            await Task.WhenAll(asks).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Each failure is named below, after every worker has answered or failed.
        }

        var failed = new List<(WorkerRecord Worker, string Reason)>();
        var replies = new (WorkerRecord, T)[workers.Count];
        for (int i = 0; i < asks.Length; i++)
        {
            if (asks[i].IsCompletedSuccessfully && JsonSerializer.Deserialize(asks[i].Result, json) is { } reply)
            {
                replies[i] = (workers[i], reply);
            }
            else
            {
                failed.Add((workers[i], asks[i].Exception?.InnerException?.Message ?? "an empty answer"));
            }
        }

        return failed.Count == 0
            ? replies
            : throw new WorkerRequestException(failed[0].Worker.Id, null,
                $"{type} of '{path}' did not reach {failed.Count} of {workers.Count} workers: {string.Join("; ", failed.Select(f => $"{f.Worker.Id}: {f.Reason}"))}", isTransient: true);

        async Task<byte[]> AskAsync(WorkerRecord worker)
        {
            PageStreamConnection connection = await _pool.GetAsync(worker, cancellationToken).ConfigureAwait(false);
            return await connection.QueryAsync(type, path, after: null, limit: 0, cancellationToken, flags).ConfigureAwait(false);
        }
    }

    /// <summary>True when the failure is worth trying again (on the same or another worker), false when it would fail again.</summary>
    public static bool IsTransientFailure(Exception error) => IsTransient(error, CancellationToken.None);

    /// <summary>Every entry of a directory, page by page.</summary>
    public async IAsyncEnumerable<ListEntry> ListAllAsync(string path, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        do
        {
            ListReply page = await ListAsync(path, after, 1000, cancellationToken).ConfigureAwait(false);
            foreach (ListEntry entry in page.Entries)
            {
                yield return entry;
            }

            after = page.Next;
        }
        while (after is not null);
    }

    /// <summary>
    /// A seekable, read-only stream over the file (for Parquet readers and the like). Its length is looked up on first
    /// use; <see cref="OpenReadAsync"/> looks it up at once, so a missing file fails there.
    /// </summary>
    public Stream OpenRead(string path) => new DoraReadStream(this, DoraPath.Parse(path).Value, knownLength: null, version: null);

    /// <summary>A seekable, read-only stream over the file, after checking that it exists.</summary>
    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default)
    {
        StatReply status = await StatAsync(path, cancellationToken).ConfigureAwait(false);
        if (status.IsDirectory)
        {
            throw new InvalidPathException(path, "it is a directory, not a file");
        }

        return new DoraReadStream(this, status.Path, status.Length, status.ETag);
    }

    private async Task<byte[]> QueryAsync(FrameType type, string path, string? after, int limit, CancellationToken cancellationToken)
    {
        (bool served, byte[] body, Exception? lastError, int tried) = await OnOwnersAsync<byte[], QueryOperation>(new QueryOperation(type, path, after, limit), cancellationToken).ConfigureAwait(false);
        return served ? body : throw NoWorkerAnswered(path, tried, lastError);
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on the path's owner, then on the next workers on the ring while the failures
    /// are transient. Returns whether one answered, its answer, the last failure, and how many workers were tried.
    /// </summary>
    private async Task<(bool Served, T Result, Exception? LastError, int Tried)> OnOwnersAsync<T, TOperation>(TOperation operation, CancellationToken cancellationToken)
        where TOperation : IWorkerOperation<T>
    {
        WorkerRecord[] owners = _pool.ReachableFirst(Cluster.OwnersOf(operation.Path, _options.MaxWorkerAttempts));
        Exception? lastError = null;
        for (int attempt = 0; attempt < owners.Length; attempt++)
        {
            try
            {
                PageStreamConnection connection = await _pool.GetAsync(owners[attempt], cancellationToken).ConfigureAwait(false);
                return (true, await operation.RunAsync(connection, cancellationToken).ConfigureAwait(false), null, attempt + 1);
            }
            catch (Exception e) when (IsTransient(e, cancellationToken))
            {
                lastError = Failed(owners, attempt, operation.Path, e);
            }
        }

        return (false, default!, lastError, owners.Length);
    }

    /// <summary>Logs a worker's transient failure and counts the failover when another worker follows.</summary>
    private Exception Failed(WorkerRecord[] owners, int attempt, string path, Exception error)
    {
        Log.WorkerFailed(_logger, owners[attempt].Id, path, error.Message);
        if (attempt + 1 < owners.Length)
        {
            Metrics.WorkerFailover();
        }

        return error;
    }

    private static async Task<int> ReadUnderStorageAsync(Core.Mounts.ResolvedPath resolved, long offset, Memory<byte> destination, string? version, CancellationToken cancellationToken)
    {
        UfsFileStatus status = await resolved.Mount.Storage.StatAsync(resolved.RelativePath, cancellationToken).ConfigureAwait(false);
        if (status.IsDirectory)
        {
            throw new InvalidPathException(resolved.Path.Value, "it is a directory, not a file");
        }

        if (version is not null && status.ETag != version)
        {
            throw new VersionMismatchException(resolved.Path.Value, version, status.ETag);
        }

        if (offset > status.Length)
        {
            throw new InvalidRangeException(resolved.Path.Value, offset, destination.Length, status.Length);
        }

        int count = (int)Math.Min(destination.Length, status.Length - offset);
        int done = 0;
        while (done < count)
        {
            int read = await resolved.Mount.Storage.ReadAsync(resolved.RelativePath, status.Fingerprint, offset + done, destination[done..count], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            done += read;
        }

        return done;
    }

    private static bool IsTransient(Exception error, CancellationToken cancellationToken) => error switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        DoraException dora => dora.IsTransient,
        IOException or SocketException or TimeoutException or InvalidDataException => true,
        _ => false,
    };

    private static DoraException NoWorkerAnswered(string path, int tried, Exception? lastError) => tried == 0
        ? new NoWorkersException()
        : new DoraException($"No worker could serve '{path}' ({tried} tried); the last error: {lastError?.Message}", isTransient: true, lastError);

    private void OnRingChanged(object? sender, EventArgs e) => _ = _pool.PruneAsync(Cluster.Membership);

    public async ValueTask DisposeAsync()
    {
        Cluster.RingChanged -= OnRingChanged;
        await _pool.DisposeAsync().ConfigureAwait(false);
        await Cluster.DisposeAsync().ConfigureAwait(false);
        Metrics.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Worker {WorkerId} failed for '{Path}': {Reason}; trying the next")]
        public static partial void WorkerFailed(ILogger logger, string workerId, string path, string reason);
    }
}
