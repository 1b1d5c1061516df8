using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mvccpb;

namespace Dora.Registry.Etcd;

/// <summary>
/// A worker's entry in etcd and the lease that keeps it: claimed only when the key is free (a transaction on its
/// create revision), kept alive every TTL/3, written again if it disappears while the lease lives, re-granted and
/// rewritten if the lease is lost (for example after etcd was down longer than the TTL: then after a random pause of up
/// to a second, so a cluster whose leases all expired together does not re-register in one burst; the record counts the
/// registrations), and on dispose marked leaving and then revoked, so the worker leaves every ring at once.
/// </summary>
internal sealed class EtcdWorkerRegistration : IWorkerRegistration
{
    private readonly EtcdRegistry _registry;
    private readonly ByteString _key;
    private WorkerRecord _worker;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keeper;
    private long _lease;

    private EtcdWorkerRegistration(EtcdRegistry registry, WorkerRecord worker, long lease)
    {
        _registry = registry;
        _worker = worker;
        _key = registry.Keys.Worker(worker.Id);
        _lease = lease;
        _keeper = Task.Run(() => KeepAsync(_stop.Token));
    }

    public WorkerRecord Worker => Volatile.Read(ref _worker);

    public string? Session => FormatSession(Volatile.Read(ref _lease));

    public Task Completion => _completion.Task;

    public event EventHandler<string>? SessionChanged;

    private EtcdConnection Connection => _registry.Connection;

    private long TtlSeconds => (long)Math.Ceiling(_registry.Options.LeaseTtl.TotalSeconds);

    public static async Task<IWorkerRegistration> StartAsync(EtcdRegistry registry, WorkerRecord worker, RegistrationOptions options, CancellationToken cancellationToken)
    {
        long? previous = ParseSession(options.PreviousSession);
        worker = worker with { RegisteredAt = DateTimeOffset.UtcNow };
        try
        {
            long lease = await ClaimAsync(registry, worker, previous, cancellationToken).ConfigureAwait(false);
            return new EtcdWorkerRegistration(registry, worker, lease);
        }
        catch (Exception e) when (registry.Connection.Denial(e, $"write {registry.Keys.WorkersPrefixText}{worker.Id}") is { } denied)
        {
            throw denied;
        }
        catch (Exception e) when (registry.Connection.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            registry.Connection.Failed();
            throw registry.Connection.Unavailable(e);
        }
    }

    /// <summary>
    /// Grants a lease and writes the entry if the key is free. A key held by this worker's previous run (its lease is
    /// <paramref name="previousLease"/>) is taken over at once; a key held by another lease is waited for until that
    /// lease's remaining TTL has passed, and if the lease is still alive then, the id belongs to a live worker.
    /// </summary>
    private static async Task<long> ClaimAsync(EtcdRegistry registry, WorkerRecord worker, long? previousLease, CancellationToken cancellationToken)
    {
        EtcdConnection connection = registry.Connection;
        ByteString key = registry.Keys.Worker(worker.Id);
        ByteString value = ByteString.CopyFrom(worker.ToJson());
        long ttl = (long)Math.Ceiling(registry.Options.LeaseTtl.TotalSeconds);
        long waitedFor = long.MinValue;
        while (true)
        {
            LeaseGrantResponse grant = await connection.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, connection.Unary(cancellationToken))
                .ConfigureAwait(false);
            (bool written, KeyValue? holder) = await PutIfAbsentAsync(connection, key, value, grant.ID, cancellationToken).ConfigureAwait(false);
            if (written)
            {
                RegistryLog.Registered(registry.Logger, worker.Id, registry.Description, grant.ID, grant.TTL);
                return grant.ID;
            }

            // The key is taken: give our lease back before deciding, so waiting cannot let it expire half-used.
            await RevokeQuietlyAsync(connection, grant.ID, cancellationToken).ConfigureAwait(false);
            if (holder is null)
            {
                continue;
            }

            if (holder.Lease != 0 && holder.Lease == previousLease)
            {
                RegistryLog.TakingOver(registry.Logger, worker.Id, holder.Lease);
                await RevokeQuietlyAsync(connection, holder.Lease, cancellationToken).ConfigureAwait(false);
                previousLease = null;
                continue;
            }

            if (holder.Lease == 0)
            {
                throw new DuplicateWorkerIdException(worker.Id, DescribeHolder(registry, holder), registry.Description);
            }

            LeaseTimeToLiveResponse remaining = await connection.Lease.LeaseTimeToLiveAsync(
                new LeaseTimeToLiveRequest { ID = holder.Lease }, connection.Unary(cancellationToken)).ConfigureAwait(false);
            if (remaining.TTL <= 0)
            {
                // The lease has just expired and etcd is deleting its keys.
                await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (holder.Lease == waitedFor)
            {
                // It outlived its whole remaining TTL: someone keeps it alive.
                throw new DuplicateWorkerIdException(worker.Id, DescribeHolder(registry, holder), registry.Description);
            }

            RegistryLog.WaitingForOldLease(registry.Logger, worker.Id, remaining.TTL + 1, holder.Lease);
            await Task.Delay(TimeSpan.FromSeconds(remaining.TTL + 1), cancellationToken).ConfigureAwait(false);
            waitedFor = holder.Lease;
        }
    }

    /// <summary>
    /// Writes the entry under <paramref name="lease"/> if the key does not exist. Otherwise returns false and the
    /// key's current holder, which is null when the key vanished between the compare and the read.
    /// </summary>
    private static async Task<(bool Written, KeyValue? Holder)> PutIfAbsentAsync(EtcdConnection connection, ByteString key, ByteString value, long lease, CancellationToken cancellationToken)
    {
        var transaction = new TxnRequest();
        transaction.Compare.Add(new Compare
        {
            Key = key,
            Target = Compare.Types.CompareTarget.Create,
            Result = Compare.Types.CompareResult.Equal,
            CreateRevision = 0,
        });
        transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value, Lease = lease } });
        transaction.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        TxnResponse response = await connection.Kv.TxnAsync(transaction, connection.Unary(cancellationToken)).ConfigureAwait(false);
        if (response.Succeeded)
        {
            return (true, null);
        }

        var holders = response.Responses[0].ResponseRange.Kvs;
        return (false, holders.Count > 0 ? holders[0] : null);
    }

    private static string DescribeHolder(EtcdRegistry registry, KeyValue holder)
    {
        string lease = holder.Lease == 0 ? "no lease: written by hand?" : $"lease {holder.Lease:x}";
        return registry.TryParse(holder) is { } record
            ? $"host {record.Host}, http port {record.HttpPort}, started {record.StartedAt:O}, {lease}"
            : lease;
    }

    /// <summary>Keep-alive loop; ends on dispose, or faults the registration when another worker takes the id.</summary>
    private async Task KeepAsync(CancellationToken stop)
    {
        var backoff = new Backoff(_registry.Options.ReconnectDelay, _registry.Options.MaxReconnectDelay);
        TimeSpan interval = _registry.Options.LeaseTtl / 3;
        bool failing = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call = Connection.Lease.LeaseKeepAlive(Connection.Stream(stop));
                while (!stop.IsCancellationRequested)
                {
                    long lease = Volatile.Read(ref _lease);
                    await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, stop).ConfigureAwait(false);
                    using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop))
                    {
                        timeout.CancelAfter(_registry.Options.CallTimeout);
                        if (!await call.ResponseStream.MoveNext(timeout.Token).ConfigureAwait(false))
                        {
                            break;
                        }
                    }

                    if (call.ResponseStream.Current.TTL <= 0)
                    {
                        RegistryLog.LeaseLost(_registry.Logger, Worker.Id, lease, "etcd reports it expired");
                        await RenewAsync(stop).ConfigureAwait(false);
                        break;
                    }

                    try
                    {
                        await EnsureEntryAsync(lease, stop).ConfigureAwait(false);
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
                    {
                        // The lease ended between the keep-alive answer and the rewrite (revoked, or expired just then).
                        RegistryLog.LeaseLost(_registry.Logger, Worker.Id, lease, "etcd no longer knows it");
                        await RenewAsync(stop).ConfigureAwait(false);
                        break;
                    }

                    failing = false;
                    backoff.Reset();
                    await Task.Delay(interval, stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (DuplicateWorkerIdException e)
            {
                RegistryLog.IdTaken(_registry.Logger, Worker.Id);
                _completion.TrySetException(e);
                return;
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is RpcException or OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (Connection.IsTransient(e) || e is OperationCanceledException)
            {
                if (!failing)
                {
                    RegistryLog.KeepAliveFailed(_registry.Logger, Worker.Id, e is RpcException rpc ? rpc.StatusCode.ToString() : e.Message);
                    failing = true;
                }

                Connection.Failed();
                try
                {
                    await backoff.WaitAsync(stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Writes the entry again if it vanished while the lease lived (deleted by hand, for instance).</summary>
    private async Task EnsureEntryAsync(long lease, CancellationToken stop)
    {
        RangeResponse current = await Connection.Kv.RangeAsync(new RangeRequest { Key = _key }, Connection.Unary(stop)).ConfigureAwait(false);
        if (current.Kvs.Count > 0)
        {
            if (current.Kvs[0].Lease != lease)
            {
                throw new DuplicateWorkerIdException(Worker.Id, DescribeHolder(_registry, current.Kvs[0]), _registry.Description);
            }

            return;
        }

        RegistryLog.EntryRewritten(_registry.Logger, Worker.Id, _registry.Description);
        (bool written, KeyValue? holder) = await PutIfAbsentAsync(Connection, _key, ByteString.CopyFrom(Worker.ToJson()), lease, stop).ConfigureAwait(false);
        if (!written && holder is not null && holder.Lease != lease)
        {
            throw new DuplicateWorkerIdException(Worker.Id, DescribeHolder(_registry, holder), _registry.Description);
        }
    }

    /// <summary>
    /// After a lost lease: claims the key again under a new lease (the old entry went with the old lease), after a random
    /// pause of up to a second (a tenth of the TTL at most) so that workers whose leases expired together (etcd was
    /// unreachable) come back spread out.
    /// </summary>
    private async Task RenewAsync(CancellationToken stop)
    {
        TimeSpan jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(1000, _registry.Options.LeaseTtl.TotalMilliseconds / 10));
        await Task.Delay(jitter, stop).ConfigureAwait(false);
        WorkerRecord renewed = Worker with { Registrations = Worker.Registrations + 1, RegisteredAt = DateTimeOffset.UtcNow };
        Volatile.Write(ref _worker, renewed);
        long lease = await ClaimAsync(_registry, renewed, previousLease: null, stop).ConfigureAwait(false);
        Volatile.Write(ref _lease, lease);
        SessionChanged?.Invoke(this, FormatSession(lease));
    }

    private static async Task RevokeQuietlyAsync(EtcdConnection connection, long lease, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, connection.Unary(cancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already expired.
        }
    }

    private static string FormatSession(long lease) => lease.ToString("x", CultureInfo.InvariantCulture);

    private static long? ParseSession(string? session) =>
        long.TryParse(session, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long lease) ? lease : null;

    /// <inheritdoc/>
    public async Task UpdateAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        worker.Validate();
        WorkerRecord current = Worker;
        WorkerRecord updated = worker with { Registrations = current.Registrations, RegisteredAt = current.RegisteredAt };
        Volatile.Write(ref _worker, updated);
        try
        {
            await PutUnderOwnLeaseAsync(updated, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (Connection.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            // etcd is unreachable: the keep-alive loop writes the current record when it has to rewrite the entry.
            Connection.Failed();
        }
    }

    /// <summary>Writes the record if the key is still held by this registration's lease (else nothing: the keep-alive loop owns the key).</summary>
    private async Task PutUnderOwnLeaseAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        long lease = Volatile.Read(ref _lease);
        var transaction = new TxnRequest();
        transaction.Compare.Add(new Compare
        {
            Key = _key,
            Target = Compare.Types.CompareTarget.Lease,
            Result = Compare.Types.CompareResult.Equal,
            Lease = lease,
        });
        transaction.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = _key, Value = ByteString.CopyFrom(worker.ToJson()), Lease = lease } });
        await Connection.Kv.TxnAsync(transaction, Connection.Unary(cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops keeping the lease, marks the entry leaving (so watchers drop the worker at once rather than wait out the
    /// grace they give workers that vanish), and revokes the lease, which deletes the entry; if etcd is unreachable the
    /// entry expires after the TTL.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keeper.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(_registry.Options.CallTimeout);
            await PutUnderOwnLeaseAsync(Worker with { State = WorkerRecord.Leaving, Reasons = null }, timeout.Token).ConfigureAwait(false);
            await RevokeQuietlyAsync(Connection, Volatile.Read(ref _lease), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (Connection.IsTransient(e) || e is OperationCanceledException)
        {
            // etcd is unreachable: the entry goes when its lease expires.
        }

        _completion.TrySetResult();
    }
}
