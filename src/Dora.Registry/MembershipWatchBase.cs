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
