namespace Dora.Registry;

/// <summary>An advertisement with nothing to keep alive: disposing it runs <paramref name="onDispose"/> once.</summary>
internal sealed class Advertisement(Action? onDispose) : IAsyncDisposable
{
    private int _disposed;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            onDispose?.Invoke();
        }

        return ValueTask.CompletedTask;
    }
}
