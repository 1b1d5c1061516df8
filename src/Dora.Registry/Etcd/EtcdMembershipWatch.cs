using Etcdserverpb;
using Grpc.Core;
using Mvccpb;

namespace Dora.Registry.Etcd;

/// <summary>
/// Follows the workers prefix: starts from a listing at revision R, watches from R + 1, and after any error resumes
/// from the revision after the last event applied, so no event is missed or applied twice or out of order. A watch
/// that fell behind compaction lists the prefix again. While etcd is unreachable the last view stays in place.
/// </summary>
internal sealed class EtcdMembershipWatch : MembershipWatchBase
{
    private readonly EtcdRegistry _registry;
    private readonly Dictionary<string, WorkerRecord> _workers;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _nextRevision;

    public EtcdMembershipWatch(EtcdRegistry registry, Dictionary<string, WorkerRecord> workers, long revision)
        : base(new Membership(workers.Values, revision))
    {
        _registry = registry;
        _workers = workers;
        _nextRevision = revision + 1;
        _loop = Task.Run(() => FollowAsync(_stop.Token));
    }

    private async Task FollowAsync(CancellationToken stop)
    {
        var backoff = new Backoff(_registry.Options.ReconnectDelay, _registry.Options.MaxReconnectDelay);
        bool relist = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (relist)
                {
                    (Dictionary<string, WorkerRecord> workers, long revision) = await _registry.ReadWorkersAsync(stop).ConfigureAwait(false);
                    _workers.Clear();
                    foreach ((string id, WorkerRecord record) in workers)
                    {
                        _workers[id] = record;
                    }

                    _nextRevision = revision + 1;
                    relist = false;
                    Publish(new Membership(_workers.Values, revision));
                }

                relist = await WatchOnceAsync(backoff, stop).ConfigureAwait(false);
                if (!relist)
                {
                    // etcd closed the stream without an error (a graceful shutdown): pause before watching again.
                    await backoff.WaitAsync(stop).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!stop.IsCancellationRequested && (_registry.Connection.IsTransient(e) || e is RegistryUnavailableException))
            {
                if (IsConnected)
                {
                    RegistryLog.Unreachable(_registry.Logger, _registry.Description, Reason(e), Current.Workers.Count, Current.Revision);
                    SetConnected(false);
                }

                _registry.Connection.Failed();
                try
                {
                    await backoff.WaitAsync(stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is RpcException or OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One watch stream until it ends; returns true when the prefix must be listed again (compaction).</summary>
    private async Task<bool> WatchOnceAsync(Backoff backoff, CancellationToken stop)
    {
        using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = _registry.Connection.Watch.Watch(_registry.Connection.Stream(stop));
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = _registry.Keys.WorkersPrefix,
                RangeEnd = _registry.Keys.WorkersPrefixEnd,
                StartRevision = _nextRevision,
                ProgressNotify = true,
            },
        }, stop).ConfigureAwait(false);

        while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
        {
            WatchResponse response = call.ResponseStream.Current;
            if (response.CompactRevision > 0)
            {
                RegistryLog.Compacted(_registry.Logger, _registry.Description, response.CompactRevision);
                return true;
            }

            if (response.Canceled)
            {
                throw new RegistryUnavailableException($"etcd cancelled the watch: {response.CancelReason}");
            }

            if (response.Created)
            {
                backoff.Reset();
                if (!IsConnected)
                {
                    RegistryLog.Reconnected(_registry.Logger, _registry.Description, _nextRevision);
                    SetConnected(true);
                }

                continue;
            }

            if (response.Events.Count == 0)
            {
                // Progress notification: every event up to the header's revision has been delivered.
                _nextRevision = Math.Max(_nextRevision, response.Header.Revision + 1);
                continue;
            }

            foreach (Event change in response.Events)
            {
                Apply(change);
                _nextRevision = change.Kv.ModRevision + 1;
            }

            Publish(new Membership(_workers.Values, response.Header.Revision));
        }

        return false;
    }

    private void Apply(Event change)
    {
        string? id = _registry.Keys.WorkerIdOf(change.Kv.Key);
        if (change.Type == Event.Types.EventType.Delete)
        {
            if (id is not null && _workers.Remove(id, out WorkerRecord? last) && last.IsLeaving)
            {
                NoteGracefulDeparture(id);
            }

            return;
        }

        // A put that does not parse removes what the key held before: the old record is no longer there.
        if (_registry.TryParse(change.Kv) is { } record)
        {
            _workers[record.Id] = record;
            if (!record.IsLeaving)
            {
                NoteReturn(record.Id);
            }
        }
        else if (id is not null)
        {
            _workers.Remove(id);
        }
    }

    private static string Reason(Exception e) => e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
