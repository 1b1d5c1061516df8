using System.Diagnostics.Metrics;
using Dora.Core.Hashing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Registry;

/// <summary>
/// A process's view of the cluster: the membership it follows and the hash ring built from it. Rebuilds are rate
/// limited (<see cref="ClusterViewOptions.RebuildInterval"/>); workers that say they are leaving leave the ring at once,
/// workers that vanish without saying so (expired leases) stay for <see cref="ClusterViewOptions.DepartureGrace"/>, and
/// a view that suddenly turns empty is only believed after it is confirmed
/// (<see cref="ClusterViewOptions.EmptyViewConfirmation"/>).
/// </summary>
public sealed class ClusterView : IAsyncDisposable
{
    private readonly IClusterRegistry _registry;
    private readonly IMembershipWatch _watch;
    private readonly ClusterViewOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Meter _meter;
    private volatile Snapshot _snapshot;
    private long _ringChanges;
    private long _wakeUps;

    /// <summary>Workers that vanished without leaving on purpose, kept on the ring until their deadline.</summary>
    private readonly Dictionary<string, (WorkerRecord Record, DateTimeOffset Until)> _departing = new(StringComparer.Ordinal);

    /// <summary>This view's own meter (several views in one process each have one of <see cref="MeterName"/>).</summary>
    internal Meter Meter => _meter;

    private ClusterView(IClusterRegistry registry, IMembershipWatch watch, ClusterViewOptions options, ILogger logger)
    {
        _registry = registry;
        _watch = watch;
        _options = options;
        _logger = logger;
        Membership initial = Serving(watch.Current);
        _snapshot = new Snapshot(initial, initial.ToRing(options.Policy, options.CapacityWeights));
        _meter = new Meter(MeterName);
        _meter.CreateObservableGauge("dora.registry.connected", () => IsRegistryConnected ? 1 : 0,
            description: "1 while the registry is reachable; 0 while this process serves from the last membership it saw.");
        _meter.CreateObservableGauge("dora.cluster.workers", () => Membership.Workers.Count, unit: "{worker}",
            description: "Workers in the membership this process routes by.");
        _meter.CreateObservableGauge("dora.registry.empty_view_suspected", () => IsEmptyViewSuspected ? 1 : 0,
            description: "1 while an empty membership is held back awaiting confirmation.");
        _meter.CreateObservableCounter("dora.cluster.ring_changes", () => Interlocked.Read(ref _ringChanges), unit: "{change}",
            description: "Ring rebuilds after membership changes.");
        _meter.CreateObservableGauge("dora.cluster.departing_workers", () => DepartingWorkers, unit: "{worker}",
            description: "Workers whose lease vanished, kept on the ring for their grace period.");
        _watch.Changed += OnWatchChanged;
        _loop = Task.Run(() => RebuildAsync(_stop.Token));
    }

    /// <summary>Reads the membership from <paramref name="registry"/> and follows it.</summary>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached, so there is no first view.</exception>
    public static async Task<ClusterView> StartAsync(IClusterRegistry registry, ClusterViewOptions? options, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        IMembershipWatch watch = await registry.WatchAsync(cancellationToken).ConfigureAwait(false);
        return new ClusterView(registry, watch, options ?? new ClusterViewOptions(), logger ?? NullLogger.Instance);
    }

    /// <summary>Name of the <see cref="Meter"/> every view reports to.</summary>
    public const string MeterName = "Dora.Registry";

    /// <summary>The membership the ring was built from.</summary>
    public Membership Membership => _snapshot.Membership;

    /// <summary>The current ring (immutable; a change builds a new one).</summary>
    public HashRing Ring => _snapshot.Ring;

    /// <summary>False while the registry is unreachable: the view is the last one seen.</summary>
    public bool IsRegistryConnected => _watch.IsConnected;

    /// <summary>True while an empty view is held back awaiting confirmation.</summary>
    public bool IsEmptyViewSuspected { get; private set; }

    /// <summary>Workers kept on the ring although their registration vanished (within their grace).</summary>
    public int DepartingWorkers { get; private set; }

    /// <summary>Times the rebuild loop woke up (tests check that an idle view sleeps).</summary>
    internal long WakeUps => Interlocked.Read(ref _wakeUps);

    /// <summary>Where the membership comes from, for messages.</summary>
    public string RegistryDescription => _registry.Description;

    /// <summary>Raised (on a background thread) after the ring was rebuilt.</summary>
    public event EventHandler? RingChanged;

    /// <summary>The record of the worker that owns <paramref name="path"/>.</summary>
    /// <exception cref="Dora.Core.Errors.NoWorkersException">No worker is registered.</exception>
    public WorkerRecord OwnerOf(string path)
    {
        Snapshot snapshot = _snapshot;
        return snapshot.Membership.Workers[snapshot.Ring.OwnerIndexOf(path)];
    }

    /// <summary>
    /// Up to <paramref name="count"/> distinct workers for <paramref name="path"/>, owner first, then the next in the
    /// policy's replica order; all from one consistent snapshot of membership and ring. Empty when no worker is known.
    /// </summary>
    public WorkerRecord[] OwnersOf(string path, int count)
    {
        Snapshot snapshot = _snapshot;
        if (snapshot.Ring.IsEmpty)
        {
            return [];
        }

        Span<int> indexes = stackalloc int[Math.Clamp(count, 1, 64)];
        int found = snapshot.Ring.OwnersOf(path, indexes);
        var owners = new WorkerRecord[found];
        for (int i = 0; i < found; i++)
        {
            owners[i] = snapshot.Membership.Workers[indexes[i]];
        }

        return owners;
    }

    /// <summary>Wakes the rebuild loop; it coalesces any number of changes into one rebuild.</summary>
    private void OnWatchChanged(object? sender, EventArgs e)
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // A rebuild is already pending; it will read the latest membership.
        }
    }

    private async Task RebuildAsync(CancellationToken stop)
    {
        TimeProvider time = _options.Time;
        DateTimeOffset? emptySince = null;
        try
        {
            while (true)
            {
                Interlocked.Increment(ref _wakeUps);

                // Wait for a change; no longer than the next confirmation or grace deadline that is due.
                DateTimeOffset now = time.GetUtcNow();
                DateTimeOffset? due = NextDeadline(emptySince);
                bool signalled = due is { } deadline
                    ? await WaitForSignalAsync(deadline - now, stop).ConfigureAwait(false)
                    : await WaitForSignalAsync(Timeout.InfiniteTimeSpan, stop).ConfigureAwait(false);
                if (signalled)
                {
                    // Let the rest of a burst arrive before reading the membership.
                    await Task.Delay(_options.RebuildInterval, time, stop).ConfigureAwait(false);
                }

                now = time.GetUtcNow();
                Membership next = WithDeparting(_watch.Current, now);
                if (next.Workers.Count == 0 && _snapshot.Membership.Workers.Count > 0)
                {
                    if (emptySince is null)
                    {
                        emptySince = now;
                        IsEmptyViewSuspected = true;
                        RegistryLog.EmptyViewSuspected(_logger, _registry.Description, _snapshot.Membership.Workers.Count, _options.EmptyViewConfirmation.TotalSeconds);
                        continue;
                    }

                    if (now - emptySince.Value < _options.EmptyViewConfirmation)
                    {
                        continue;
                    }

                    Membership? confirmed = await ConfirmEmptyAsync(stop).ConfigureAwait(false);
                    if (confirmed is null)
                    {
                        // Cannot confirm while the registry is away: keep the last view and try again later.
                        emptySince = time.GetUtcNow();
                        continue;
                    }

                    next = Serving(confirmed);
                }

                emptySince = null;
                IsEmptyViewSuspected = false;
                if (!next.SameWorkersAs(_snapshot.Membership))
                {
                    if (next.Workers.Count == 0)
                    {
                        RegistryLog.EmptyViewConfirmed(_logger, _registry.Description);
                    }

                    _snapshot = new Snapshot(next, next.ToRing(_options.Policy, _options.CapacityWeights));
                    Interlocked.Increment(ref _ringChanges);
                    RegistryLog.MembershipChanged(_logger, _registry.Description, next.Workers.Count, next.Revision);
                    RingChanged?.Invoke(this, EventArgs.Empty);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>True when signalled, false when <paramref name="timeout"/> (on the view's clock) passed first.</summary>
    private async Task<bool> WaitForSignalAsync(TimeSpan timeout, CancellationToken stop)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await _signal.WaitAsync(stop).ConfigureAwait(false);
            return true;
        }

        if (_signal.Wait(0, CancellationToken.None))
        {
            return true;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stop);
        Task delay = Task.Delay(timeout < TimeSpan.Zero ? TimeSpan.Zero : timeout, _options.Time, timer.Token);
        Task<bool> signal = _signal.WaitAsync(Timeout.Infinite, timer.Token);
        Task first = await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await timer.CancelAsync().ConfigureAwait(false);
        stop.ThrowIfCancellationRequested();
        if (first == signal)
        {
            return await signal.ConfigureAwait(false);
        }

        // The delay won; a signal that raced it in is taken now rather than lost.
        try
        {
            return await signal.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The earliest of the empty view's confirmation and the grace deadlines, or null when none is pending.</summary>
    private DateTimeOffset? NextDeadline(DateTimeOffset? emptySince)
    {
        DateTimeOffset now = _options.Time.GetUtcNow();
        DateTimeOffset? due = emptySince + _options.EmptyViewConfirmation;
        foreach ((_, DateTimeOffset until) in _departing.Values)
        {
            if (until > now && (due is null || until < due))
            {
                due = until;
            }
        }

        return due;
    }

    /// <summary>The workers on the ring: those registered and not leaving.</summary>
    private static Membership Serving(Membership membership)
    {
        foreach (WorkerRecord worker in membership.Workers)
        {
            if (worker.IsLeaving)
            {
                return new Membership(membership.Workers.Where(w => !w.IsLeaving), membership.Revision);
            }
        }

        return membership;
    }

    /// <summary>
    /// The serving workers of <paramref name="current"/>, plus those that vanished from it without leaving on purpose,
    /// for their grace. Workers that came back, that said they were leaving, or whose grace ran out are let go.
    /// </summary>
    private Membership WithDeparting(Membership current, DateTimeOffset now)
    {
        Membership registered = Serving(current);
        foreach (WorkerRecord worker in _snapshot.Membership.Workers)
        {
            if (current.Find(worker.Id) is null && !_departing.ContainsKey(worker.Id) && !_watch.LeftGracefully(worker.Id))
            {
                _departing[worker.Id] = (worker, now + _options.DepartureGrace);
                RegistryLog.WorkerVanished(_logger, worker.Id, _registry.Description, _options.DepartureGrace.TotalSeconds);
            }
        }

        // An entry whose grace ran out stays (not kept on the ring) until the ring no longer has the worker, so that a
        // view held back as suspiciously empty does not count the same departure again.
        List<WorkerRecord>? kept = null;
        int departing = 0;
        foreach ((string id, (WorkerRecord record, DateTimeOffset until)) in _departing.ToArray())
        {
            if (current.Find(id) is not null || _watch.LeftGracefully(id) || (now >= until && _snapshot.Membership.Find(id) is null))
            {
                _departing.Remove(id);
            }
            else if (now < until)
            {
                (kept ??= []).Add(record);
                departing++;
            }
        }

        DepartingWorkers = departing;
        return kept is null ? registered : new Membership(registered.Workers.Concat(kept), registered.Revision);
    }

    /// <summary>A fresh read of the registry, or null when it cannot be read.</summary>
    private async Task<Membership?> ConfirmEmptyAsync(CancellationToken stop)
    {
        try
        {
            return await _registry.ReadAsync(stop).ConfigureAwait(false);
        }
        catch (RegistryUnavailableException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _watch.Changed -= OnWatchChanged;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _watch.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _signal.Dispose();
        _meter.Dispose();
    }

    private sealed record Snapshot(Membership Membership, HashRing Ring);
}
