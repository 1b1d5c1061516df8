namespace Dora.Core.Resources;

/// <summary>
/// A worker-wide allowance of bytes (memory for decoding, buffers) shared by concurrent requests. A request takes a
/// lease for what it needs, waits in line (first come, first served, so a large request is not starved by small ones)
/// while the budget is spent, and gives the bytes back when the lease is disposed — also when it is cancelled while
/// waiting or working. A request larger than the whole budget is refused at once: it could never run.
/// </summary>
public sealed class ByteBudget
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private long _available;

    /// <param name="capacity">The bytes in the budget; at least 1.</param>
    /// <param name="name">What the budget is for, as error messages name it (e.g. <c>Flight decoding memory</c>).</param>
    /// <param name="setting">The setting that sizes it, named in errors (e.g. <c>--flight-decode-memory</c>).</param>
    public ByteBudget(long capacity, string name, string setting)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _available = capacity;
        Name = name;
        Setting = setting;
    }

    public long Capacity { get; }

    public string Name { get; }

    public string Setting { get; }

    /// <summary>Bytes leased now.</summary>
    public long InUse
    {
        get
        {
            lock (_lock)
            {
                return Capacity - _available;
            }
        }
    }

    /// <summary>Requests waiting for bytes now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Leases <paramref name="bytes"/>, waiting (at most <paramref name="maxWait"/>) while the budget is spent.</summary>
    /// <exception cref="BudgetExceededException">More than the whole budget, or not granted within <paramref name="maxWait"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting; nothing is held.</exception>
    public async ValueTask<Lease> AcquireAsync(long bytes, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes > Capacity)
        {
            throw new BudgetExceededException($"the request needs about {bytes >> 20} MiB of {Name}, more than the whole budget of {Capacity >> 20} MiB ({Setting})", isTransient: false);
        }

        Waiter waiter;
        lock (_lock)
        {
            if (_waiting.Count == 0 && _available >= bytes)
            {
                _available -= bytes;
                return new Lease(this, bytes);
            }

            waiter = new Waiter(bytes);
            waiter.Node = _waiting.AddLast(waiter);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(maxWait);
        using (timeout.Token.Register(static state => GiveUp(((ByteBudget, Waiter))state!), (this, waiter)))
        {
            if (await waiter.Granted.Task.ConfigureAwait(false))
            {
                return new Lease(this, bytes);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new BudgetExceededException(
            $"the request waited {maxWait.TotalSeconds:0} s for {bytes >> 20} MiB of {Name} ({InUse >> 20} of {Capacity >> 20} MiB in use, {Waiting} waiting); try again later, or raise {Setting}",
            isTransient: true);
    }

    // A waiter that was granted meanwhile keeps its grant: the acquirer then returns a lease, which the caller disposes.
    private static void GiveUp((ByteBudget Budget, Waiter Waiter) state)
    {
        var (budget, waiter) = state;
        lock (budget._lock)
        {
            if (waiter.Node is null)
            {
                return;
            }

            budget._waiting.Remove(waiter.Node);
            waiter.Node = null;

            // Those behind it may fit now that it has left the line.
            budget.GrantWaitersLocked();
        }

        waiter.Granted.TrySetResult(false);
    }

    private void Release(long bytes)
    {
        lock (_lock)
        {
            _available += bytes;
            GrantWaitersLocked();
        }
    }

    private void GrantWaitersLocked()
    {
        while (_waiting.First is { } first && first.Value.Bytes <= _available)
        {
            _available -= first.Value.Bytes;
            _waiting.RemoveFirst();
            first.Value.Node = null;
            first.Value.Granted.TrySetResult(true);
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public LinkedListNode<Waiter>? Node { get; set; }

        public TaskCompletionSource<bool> Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Bytes held from a budget; dispose to give them back (once).</summary>
    public sealed class Lease : IDisposable
    {
        private ByteBudget? _budget;

        internal Lease(ByteBudget budget, long bytes)
        {
            _budget = budget;
            Bytes = bytes;
        }

        public long Bytes { get; }

        public void Dispose() => Interlocked.Exchange(ref _budget, null)?.Release(Bytes);
    }
}

/// <summary>A request could not get the bytes it needs from a worker-wide budget.</summary>
public sealed class BudgetExceededException(string message, bool isTransient) : Errors.DoraException(message, isTransient);
