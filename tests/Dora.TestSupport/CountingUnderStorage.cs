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
    private int _readsRunning;
    private int _mostReadsRunning;

    public int Reads => Volatile.Read(ref _reads);

    public int Stats => Volatile.Read(ref _stats);

    public int Lists => Volatile.Read(ref _lists);

    /// <summary>The most reads that were inside this storage at the same time.</summary>
    public int MostReadsRunning => Volatile.Read(ref _mostReadsRunning);

    /// <summary>
    /// When set, a read of this path blocks its calling thread (before anything asynchronous happens) until the event
    /// is set, like a stuck synchronous file system call; <see cref="BlockedReads"/> is released as each read blocks.
    /// </summary>
    public (string RelativePath, ManualResetEventSlim Release)? BlockThreadOn { get; set; }

    /// <summary>Released once for every read that blocks on <see cref="BlockThreadOn"/>.</summary>
    public SemaphoreSlim BlockedReads { get; } = new(0);

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

    public ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        if (BlockThreadOn is { } block && block.RelativePath == relativePath)
        {
            BlockedReads.Release();
            block.Release.Wait(cancellationToken);
        }

        return ReadThroughAsync(relativePath, expected, offset, buffer, cancellationToken);
    }

    private async ValueTask<int> ReadThroughAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int running = Interlocked.Increment(ref _readsRunning);
        int most = Volatile.Read(ref _mostReadsRunning);
        while (running > most && Interlocked.CompareExchange(ref _mostReadsRunning, running, most) != most)
        {
            most = Volatile.Read(ref _mostReadsRunning);
        }

        try
        {
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
        finally
        {
            Interlocked.Decrement(ref _readsRunning);
        }
    }

    public ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lists);
        return inner.ListAsync(relativePath, after, limit, cancellationToken);
    }

    public ValueTask<IUfsWriter> CreateAsync(string relativePath, CancellationToken cancellationToken) => inner.CreateAsync(relativePath, cancellationToken);

    public ValueTask<bool> DeleteAsync(string relativePath, CancellationToken cancellationToken) => inner.DeleteAsync(relativePath, cancellationToken);

    public void Dispose()
    {
        inner.Dispose();
        BlockedReads.Dispose();
    }
}
