namespace Dora.Scheduler.Running;

/// <summary>
/// A bandwidth limit shared by a job's tasks: each task takes its bytes before it runs, and waits while the bucket is
/// in debt, so over any stretch of the job the bytes started stay within the rate (plus one second's burst).
/// </summary>
internal sealed class TokenBucket(long bytesPerSecond, TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last = time.GetTimestamp();

    /// <summary>Gives back bytes taken for work that turned out not to be needed.</summary>
    public void Return(long bytes)
    {
        lock (_lock)
        {
            _tokens = Math.Min(bytesPerSecond, _tokens + bytes);
        }
    }

    public async Task TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (_lock)
        {
            long now = time.GetTimestamp();
            _tokens = Math.Min(bytesPerSecond, _tokens + (time.GetElapsedTime(_last, now).TotalSeconds * bytesPerSecond));
            _last = now;
            _tokens -= bytes;
            wait = _tokens < 0 ? TimeSpan.FromSeconds(-_tokens / bytesPerSecond) : TimeSpan.Zero;
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
