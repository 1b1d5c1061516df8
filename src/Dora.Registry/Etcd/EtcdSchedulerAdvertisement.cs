using Etcdserverpb;
using Google.Protobuf;

namespace Dora.Registry.Etcd;

/// <summary>
/// The scheduler's entry <c>/dora/&lt;cluster&gt;/scheduler</c>, written on a lease that is kept alive every third of
/// its TTL. A lost lease (etcd unreachable for longer than the TTL) is granted again and the entry rewritten; disposing
/// revokes the lease, so the entry goes at once. A newer scheduler simply overwrites the entry.
/// </summary>
internal sealed class EtcdSchedulerAdvertisement : IAsyncDisposable
{
    private readonly EtcdRegistry _registry;
    private readonly ByteString _value;
    private readonly CancellationTokenSource _stop = new();
    private long _lease;
    private Task _keeping = Task.CompletedTask;

    private EtcdSchedulerAdvertisement(EtcdRegistry registry, SchedulerRecord scheduler)
    {
        _registry = registry;
        _value = ByteString.CopyFrom(scheduler.ToJson());
    }

    public static async Task<IAsyncDisposable> StartAsync(EtcdRegistry registry, SchedulerRecord scheduler, CancellationToken cancellationToken)
    {
        var advertisement = new EtcdSchedulerAdvertisement(registry, scheduler);
        try
        {
            await advertisement.WriteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (registry.Connection.Denial(e, $"write {EtcdKeys.Describe(registry.Keys.Scheduler)}") is { } denied)
        {
            throw denied;
        }
        catch (Exception e) when (registry.Connection.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            registry.Connection.Failed();
            throw registry.Connection.Unavailable(e);
        }

        advertisement._keeping = advertisement.KeepAsync(advertisement._stop.Token);
        return advertisement;
    }

    private EtcdConnection Connection => _registry.Connection;

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        long ttl = (long)Math.Ceiling(_registry.Options.LeaseTtl.TotalSeconds);
        LeaseGrantResponse grant = await Connection.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, Connection.Unary(cancellationToken)).ConfigureAwait(false);
        await Connection.Kv.PutAsync(new PutRequest { Key = _registry.Keys.Scheduler, Value = _value, Lease = grant.ID }, Connection.Unary(cancellationToken)).ConfigureAwait(false);
        _lease = grant.ID;
    }

    private async Task KeepAsync(CancellationToken stop)
    {
        TimeSpan period = _registry.Options.LeaseTtl / 3;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, stop).ConfigureAwait(false);
                LeaseTimeToLiveResponse alive = await Connection.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = _lease }, Connection.Unary(stop)).ConfigureAwait(false);
                if (alive.TTL <= 0)
                {
                    await WriteAsync(stop).ConfigureAwait(false);
                    continue;
                }

                using var call = Connection.Lease.LeaseKeepAlive(Connection.Stream(stop));
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _lease }, stop).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                await call.ResponseStream.MoveNext(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (Connection.IsTransient(e))
            {
                Connection.Failed();
                RegistryLog.SchedulerAdvertFailed(_registry.Logger, e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keeping.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            using var timeout = new CancellationTokenSource(_registry.Options.CallTimeout);
            await Connection.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = _lease }, Connection.Unary(timeout.Token)).ConfigureAwait(false);
        }
        catch (Exception e) when (Connection.IsTransient(e) || e is OperationCanceledException)
        {
            // The lease expires by itself after its TTL.
        }
    }
}
