using System.Collections.Concurrent;
using Dora.Registry;

namespace Dora.Client.Internal;

/// <summary>
/// Page stream connections per worker, opened on first use, used round-robin, replaced when broken, and closed when
/// the worker leaves the membership. A worker that cannot be connected to is remembered as unreachable for a while
/// (1 s, doubling to 30 s while it keeps failing), so requests try the next owner first instead of waiting out a
/// connect timeout each (a worker whose lease vanished stays on the ring for a grace period).
/// </summary>
internal sealed class WorkerConnectionPool : IAsyncDisposable
{
    private readonly DoraClientOptions _options;
    private readonly ConcurrentDictionary<string, WorkerSlots> _workers = new(StringComparer.Ordinal);

    public WorkerConnectionPool(DoraClientOptions options)
    {
        _options = options;
    }

    /// <summary>A healthy connection to <paramref name="worker"/>, opening one if needed.</summary>
    public async Task<PageStreamConnection> GetAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        (WorkerSlots slots, int index, PageStreamConnection? connection) = Pick(worker);
        if (connection is not null)
        {
            return connection;
        }

        await slots.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            connection = slots.Connections[index];
            if (connection is { IsBroken: false })
            {
                return connection;
            }

            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            try
            {
                connection = await PageStreamConnection.OpenAsync(worker, _options, cancellationToken).ConfigureAwait(false);
            }
            catch (WorkerRequestException) when (!cancellationToken.IsCancellationRequested)
            {
                slots.ConnectFailed();
                throw;
            }

            slots.Connected();
            slots.Connections[index] = connection;
            return connection;
        }
        finally
        {
            slots.Gate.Release();
        }
    }

    /// <summary>Like <see cref="GetAsync"/>, blocking (for synchronous stream reads).</summary>
    public PageStreamConnection Get(WorkerRecord worker, CancellationToken cancellationToken)
    {
        (WorkerSlots slots, int index, PageStreamConnection? healthy) = Pick(worker);
        if (healthy is not null)
        {
            return healthy;
        }

        slots.Gate.Wait(cancellationToken);
        try
        {
            PageStreamConnection? connection = slots.Connections[index];
            if (connection is { IsBroken: false })
            {
                return connection;
            }

            // A broken connection has already failed its requests and closed its socket; it is simply replaced.
            try
            {
                connection = PageStreamConnection.Open(worker, _options, cancellationToken);
            }
            catch (WorkerRequestException) when (!cancellationToken.IsCancellationRequested)
            {
                slots.ConnectFailed();
                throw;
            }

            slots.Connected();
            slots.Connections[index] = connection;
            return connection;
        }
        finally
        {
            slots.Gate.Release();
        }
    }

    private (WorkerSlots Slots, int Index, PageStreamConnection? Healthy) Pick(WorkerRecord worker)
    {
        if (worker.StreamPort == 0)
        {
            throw new WorkerRequestException(worker.Id, null, "the worker does not serve the page stream (no streamPort)", isTransient: true);
        }

        WorkerSlots slots = _workers.GetOrAdd(worker.Id, static (_, count) => new WorkerSlots(count), _options.ConnectionsPerWorker);
        int index = slots.NextIndex();
        PageStreamConnection? connection = slots.Connections[index];
        return (slots, index, connection is { IsBroken: false } ? connection : null);
    }

    /// <summary>
    /// <paramref name="owners"/> (owner first) with the workers recently found unreachable moved to the end, in their
    /// order: still tried, but only after the others.
    /// </summary>
    public WorkerRecord[] ReachableFirst(WorkerRecord[] owners)
    {
        ArgumentNullException.ThrowIfNull(owners);
        int unreachable = 0;
        foreach (WorkerRecord owner in owners)
        {
            if (IsUnreachable(owner.Id))
            {
                unreachable++;
            }
        }

        if (unreachable == 0 || unreachable == owners.Length)
        {
            return owners;
        }

        var ordered = new WorkerRecord[owners.Length];
        int front = 0, back = owners.Length - unreachable;
        foreach (WorkerRecord owner in owners)
        {
            ordered[IsUnreachable(owner.Id) ? back++ : front++] = owner;
        }

        return ordered;
    }

    /// <summary>Whether connecting to the worker failed lately (it is then tried last, and only when nothing else answers).</summary>
    public bool IsUnreachable(string workerId) => _workers.TryGetValue(workerId, out WorkerSlots? slots) && slots.IsUnreachable;

    /// <summary>Closes the connections of workers no longer in <paramref name="membership"/>.</summary>
    public async Task PruneAsync(Membership membership)
    {
        foreach (string id in _workers.Keys)
        {
            if (membership.Find(id) is null && _workers.TryRemove(id, out WorkerSlots? slots))
            {
                await slots.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (WorkerSlots slots in _workers.Values)
        {
            await slots.DisposeAsync().ConfigureAwait(false);
        }

        _workers.Clear();
    }

    private sealed class WorkerSlots(int count) : IAsyncDisposable
    {
        private static readonly long FirstQuarantineMs = 1000;
        private static readonly long LongestQuarantineMs = 30_000;

        private int _next;
        private long _unreachableUntil;
        private long _quarantineMs;

        public PageStreamConnection?[] Connections { get; } = new PageStreamConnection?[count];

        /// <summary>True while the worker is remembered as unreachable.</summary>
        public bool IsUnreachable => Environment.TickCount64 < Volatile.Read(ref _unreachableUntil);

        public void ConnectFailed()
        {
            long quarantine = Math.Min(LongestQuarantineMs, Math.Max(FirstQuarantineMs, Volatile.Read(ref _quarantineMs) * 2));
            Volatile.Write(ref _quarantineMs, quarantine);
            Volatile.Write(ref _unreachableUntil, Environment.TickCount64 + quarantine);
        }

        public void Connected()
        {
            Volatile.Write(ref _quarantineMs, 0);
            Volatile.Write(ref _unreachableUntil, 0);
        }

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int NextIndex() => (int)((uint)Interlocked.Increment(ref _next) % (uint)Connections.Length);

        public async ValueTask DisposeAsync()
        {
            foreach (PageStreamConnection? connection in Connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            Gate.Dispose();
        }
    }
}
