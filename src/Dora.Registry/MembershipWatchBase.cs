namespace Dora.Registry;

/// <summary>The part every watch shares: the current view, the connection flag and the change notification.</summary>
public abstract class MembershipWatchBase : IMembershipWatch
{
    private volatile Membership _current;
    private volatile bool _connected = true;

    /// <summary>Starts from <paramref name="initial"/>, connected.</summary>
    protected MembershipWatchBase(Membership initial)
    {
        _current = initial;
    }

    /// <inheritdoc/>
    public Membership Current => _current;

    /// <inheritdoc/>
    public bool IsConnected => _connected;

    /// <inheritdoc/>
    public event EventHandler? Changed;

    /// <inheritdoc/>
    public bool LeftGracefully(string id)
    {
        lock (_graceful)
        {
            return _graceful.Contains(id);
        }
    }

    /// <summary>
    /// Records that the worker deregistered on purpose (its last record said it was leaving), so views drop it at once
    /// instead of waiting out their grace for workers that vanish. Bounded: the oldest ids are forgotten past 4096.
    /// </summary>
    protected void NoteGracefulDeparture(string id)
    {
        lock (_graceful)
        {
            if (_graceful.Add(id))
            {
                _gracefulOrder.Enqueue(id);
                if (_gracefulOrder.Count > MaxGracefulDepartures)
                {
                    _graceful.Remove(_gracefulOrder.Dequeue());
                }
            }
        }
    }

    /// <summary>Forgets a graceful departure: the worker registered again.</summary>
    protected void NoteReturn(string id)
    {
        lock (_graceful)
        {
            _graceful.Remove(id);
        }
    }

    private const int MaxGracefulDepartures = 4096;
    private readonly HashSet<string> _graceful = new(StringComparer.Ordinal);
    private readonly Queue<string> _gracefulOrder = new();

    /// <summary>Replaces the view and notifies, unless it holds exactly the same workers.</summary>
    protected void Publish(Membership membership)
    {
        Membership previous = _current;
        _current = membership;
        if (!previous.SameWorkersAs(membership))
        {
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>Records whether the registry is reachable and notifies on a change.</summary>
    protected void SetConnected(bool connected)
    {
        if (_connected != connected)
        {
            _connected = connected;
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <inheritdoc/>
    public abstract ValueTask DisposeAsync();
}
