namespace Dora.Registry.Etcd;

/// <summary>Doubling reconnect delay with jitter, reset after a success.</summary>
internal sealed class Backoff
{
    private readonly TimeSpan _first;
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public Backoff(TimeSpan first, TimeSpan max)
    {
        _first = first;
        _max = max;
        _next = first;
    }

    public void Reset() => _next = _first;

    /// <summary>Waits the current delay (plus up to 20% jitter, so clients do not reconnect in lock step), then doubles it.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        TimeSpan delay = _next * (1 + (Random.Shared.NextDouble() * 0.2));
        _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, _next.Ticks * 2));
        return Task.Delay(delay, cancellationToken);
    }
}
