using Etcdserverpb;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mvccpb;

namespace Dora.Registry.Etcd;

/// <summary>
/// Membership in etcd (DESIGN.md): each worker's JSON record under <c>/dora/&lt;cluster&gt;/workers/&lt;id&gt;</c>,
/// attached to a lease the worker keeps alive. Readers list the prefix, then watch it from the next revision.
/// </summary>
public sealed class EtcdRegistry : IClusterRegistry
{
    private readonly ILogger _logger;

    /// <summary>Creates the registry; nothing is contacted until the first call.</summary>
    public EtcdRegistry(EtcdRegistryOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        Connection = new EtcdConnection(options);
        Keys = new EtcdKeys(options.Cluster);
        Description = $"etcd://{Connection.Endpoints} (cluster '{options.Cluster}')";
    }

    /// <inheritdoc/>
    public string Description { get; }

    internal EtcdRegistryOptions Options { get; }

    internal EtcdConnection Connection { get; }

    internal EtcdKeys Keys { get; }

    internal ILogger Logger => _logger;

    /// <inheritdoc/>
    public async Task<Membership> ReadAsync(CancellationToken cancellationToken)
    {
        (Dictionary<string, WorkerRecord> workers, long revision) = await ReadWorkersAsync(cancellationToken).ConfigureAwait(false);
        return new Membership(workers.Values, revision);
    }

    /// <summary>Lists the prefix: the valid records by id, and the store revision the listing reflects.</summary>
    internal async Task<(Dictionary<string, WorkerRecord> Workers, long Revision)> ReadWorkersAsync(CancellationToken cancellationToken)
    {
        RangeResponse response;
        try
        {
            response = await Connection.Kv.RangeAsync(
                new RangeRequest { Key = Keys.WorkersPrefix, RangeEnd = Keys.WorkersPrefixEnd },
                Connection.Unary(cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e) when (Connection.Denial(e, $"read {Keys.WorkersPrefixText}") is { } denied)
        {
            throw denied;
        }
        catch (Exception e) when (Connection.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            Connection.Failed();
            throw Connection.Unavailable(e);
        }

        var workers = new Dictionary<string, WorkerRecord>(StringComparer.Ordinal);
        foreach (KeyValue kv in response.Kvs)
        {
            if (TryParse(kv) is { } record)
            {
                workers[record.Id] = record;
            }
        }

        return (workers, response.Header.Revision);
    }

    /// <summary>The record an entry holds, or null (with a warning) when the entry is malformed.</summary>
    internal WorkerRecord? TryParse(KeyValue kv)
    {
        string? id = Keys.WorkerIdOf(kv.Key);
        try
        {
            if (id is null)
            {
                throw new FormatException("the key does not end in a valid worker id.");
            }

            return WorkerRecord.Parse(kv.Value.Span, id);
        }
        catch (FormatException e)
        {
            RegistryLog.MalformedEntry(_logger, EtcdKeys.Describe(kv.Key), Description, e.Message);
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<IMembershipWatch> WatchAsync(CancellationToken cancellationToken)
    {
        (Dictionary<string, WorkerRecord> workers, long revision) = await ReadWorkersAsync(cancellationToken).ConfigureAwait(false);
        return new EtcdMembershipWatch(this, workers, revision);
    }

    /// <inheritdoc/>
    public Task<IWorkerRegistration> RegisterAsync(WorkerRecord worker, RegistrationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(options);
        worker.Validate();
        return EtcdWorkerRegistration.StartAsync(this, worker, options, cancellationToken);
    }

    /// <inheritdoc/>
    public Task<IAsyncDisposable> AdvertiseSchedulerAsync(SchedulerRecord scheduler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        return EtcdSchedulerAdvertisement.StartAsync(this, scheduler, cancellationToken);
    }

    /// <inheritdoc/>
    public async Task<SchedulerRecord?> ReadSchedulerAsync(CancellationToken cancellationToken)
    {
        try
        {
            RangeResponse response = await Connection.Kv.RangeAsync(new RangeRequest { Key = Keys.Scheduler }, Connection.Unary(cancellationToken)).ConfigureAwait(false);
            return response.Kvs.Count == 0 ? null : SchedulerRecord.TryParse(response.Kvs[0].Value.Span);
        }
        catch (Exception e) when (Connection.Denial(e, $"read {EtcdKeys.Describe(Keys.Scheduler)}") is { } denied)
        {
            throw denied;
        }
        catch (Exception e) when (Connection.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            Connection.Failed();
            throw Connection.Unavailable(e);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Connection.Dispose();
        return ValueTask.CompletedTask;
    }
}
