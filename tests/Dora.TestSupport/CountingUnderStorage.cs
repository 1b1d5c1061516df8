using Dora.Core.UnderStorage;

namespace Dora.TestSupport;

/// <summary>
/// Wraps a real under storage and counts the calls that reach it; reads can be held at a gate so that tests can
/// line up concurrent misses deterministically.
/// </summary>
public sealed class CountingUnderStorage(IUnderStorage inner) : IUnderStorage
{
    private int _reads;
    private int _stats;
    private int _lists;

    public int Reads => Volatile.Read(ref _reads);

    public int Stats => Volatile.Read(ref _stats);

    public int Lists => Volatile.Read(ref _lists);

    /// <summary>When set, reads wait for it before reaching the inner storage.</summary>
    public TaskCompletionSource? ReadGate { get; set; }

    /// <summary>When set, every read fails with this error (an under storage that went away).</summary>
    public Exception? ReadFailure { get; set; }

    public string Description => inner.Description;

    public ValueTask<UfsFileStatus> StatAsync(string relativePath, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stats);
        return inner.StatAsync(relativePath, cancellationToken);
    }

    public async ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (ReadGate is { } gate)
        {
            await gate.Task.ConfigureAwait(false);
        }

        if (ReadFailure is { } failure)
        {
            throw failure;
        }

        return await inner.ReadAsync(relativePath, expected, offset, buffer, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lists);
        return inner.ListAsync(relativePath, after, limit, cancellationToken);
    }

    public void Dispose() => inner.Dispose();
}
