namespace Dora.Registry.InProcess;

/// <summary>
/// Membership held in this process: the registry of <c>dora local</c>, where every worker, the scheduler and the
/// clients share one process. Registrations and watches behave as with etcd, without leases (a worker that stops
/// deregisters, and there is no other way for it to vanish).
/// </summary>
public sealed class InProcessRegistry : IClusterRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, WorkerRecord> _workers = new(StringComparer.Ordinal);
    private readonly List<Watch> _watches = [];
    private long _revision;
    private SchedulerRecord? _scheduler;

    /// <summary>Creates an empty registry named <paramref name="name"/> (used in messages).</summary>
    public InProcessRegistry(string name = "local")
    {
        Description = $"the in-process registry '{name}'";
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public Task<Membership> ReadAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(Snapshot());
        }
    }

    /// <inheritdoc/>
    public Task<IMembershipWatch> WatchAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var watch = new Watch(this, Snapshot());
            _watches.Add(watch);
            return Task.FromResult<IMembershipWatch>(watch);
        }
    }

    /// <inheritdoc/>
    public Task<IWorkerRegistration> RegisterAsync(WorkerRecord worker, RegistrationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        worker.Validate();
        lock (_lock)
        {
            if (_workers.TryGetValue(worker.Id, out WorkerRecord? holder))
            {
                throw new DuplicateWorkerIdException(worker.Id, $"{holder.Host}, http port {holder.HttpPort}", Description);
            }

            _workers.Add(worker.Id, worker);
            foreach (Watch watch in _watches)
            {
                watch.Returned(worker.Id);
            }

            PublishLocked();
        }

        return Task.FromResult<IWorkerRegistration>(new PassiveRegistration(worker, Remove, Replace));
    }

    /// <inheritdoc/>
    public Task<IAsyncDisposable> AdvertiseSchedulerAsync(SchedulerRecord scheduler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        lock (_lock)
        {
            _scheduler = scheduler;
        }

        return Task.FromResult<IAsyncDisposable>(new Advertisement(() =>
        {
            lock (_lock)
            {
                if (ReferenceEquals(_scheduler, scheduler))
                {
                    _scheduler = null;
                }
            }
        }));
    }

    /// <inheritdoc/>
    public Task<SchedulerRecord?> ReadSchedulerAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_scheduler);
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    // A registration disposed on purpose is a graceful leave: watchers drop the worker at once, with no grace.
    private void Remove(WorkerRecord worker)
    {
        lock (_lock)
        {
            if (_workers.TryGetValue(worker.Id, out WorkerRecord? current) && ReferenceEquals(current, worker))
            {
                _workers.Remove(worker.Id);
                foreach (Watch watch in _watches)
                {
                    watch.Departed(worker.Id);
                }

                PublishLocked();
            }
        }
    }

    private void Replace(WorkerRecord old, WorkerRecord updated)
    {
        lock (_lock)
        {
            if (_workers.TryGetValue(old.Id, out WorkerRecord? current) && ReferenceEquals(current, old))
            {
                _workers[old.Id] = updated;
                PublishLocked();
            }
        }
    }

    private Membership Snapshot() => new(_workers.Values, _revision);

    private void PublishLocked()
    {
        _revision++;
        Membership membership = Snapshot();
        foreach (Watch watch in _watches)
        {
            watch.Update(membership);
        }
    }

    private sealed class Watch(InProcessRegistry registry, Membership initial) : MembershipWatchBase(initial)
    {
        public void Update(Membership membership) => Publish(membership);

        public void Departed(string id) => NoteGracefulDeparture(id);

        public void Returned(string id) => NoteReturn(id);

        public override ValueTask DisposeAsync()
        {
            lock (registry._lock)
            {
                registry._watches.Remove(this);
            }

            return ValueTask.CompletedTask;
        }
    }
}
