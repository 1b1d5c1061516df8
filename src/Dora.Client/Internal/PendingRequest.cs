using Dora.Core.Protocol;

namespace Dora.Client.Internal;

/// <summary>
/// A request sent on a connection and waiting for its response frames. READ responses land straight in the caller's
/// memory; once the caller gave up (cancelled), later frames are discarded instead, and the caller's memory is never
/// written after it regained control: a frame being received at that moment is finished first.
/// </summary>
internal sealed class PendingRequest
{
    private readonly TaskCompletionSource<int> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private bool _abandoned;
    private bool _receiving;
    private bool _finished;

    public PendingRequest(ulong id, FrameType type, string path, long offset, Memory<byte> destination)
    {
        Id = id;
        Path = path;
        Type = type;
        Offset = offset;
        Destination = destination;
        NextOffset = offset;
    }

    public ulong Id { get; }

    public FrameType Type { get; }

    /// <summary>The path the request is about, for error messages.</summary>
    public string Path { get; }

    /// <summary>For READ: the file offset of <see cref="Destination"/>'s first byte.</summary>
    public long Offset { get; }

    public Memory<byte> Destination { get; }

    /// <summary>For READ: the offset the next DATA frame must start at (frames arrive in order).</summary>
    public long NextOffset { get; set; }

    /// <summary>For STAT and LIST: the JSON body.</summary>
    public byte[]? Body { get; private set; }

    public Task<int> Task => _completion.Task;

    /// <summary>
    /// Claims the destination for receiving one frame into it; false when the caller has abandoned the request (the
    /// frame must then be discarded).
    /// </summary>
    public bool BeginReceive()
    {
        lock (_gate)
        {
            _receiving = !_abandoned;
            return _receiving;
        }
    }

    /// <summary>Ends a receive begun by <see cref="BeginReceive"/>; completes an abandonment that waited for it.</summary>
    public void EndReceive()
    {
        lock (_gate)
        {
            _receiving = false;
            if (_abandoned)
            {
                FinishLocked(0, new OperationCanceledException());
            }
        }
    }

    /// <summary>The caller gives up: completes now unless a frame is landing in its memory, then right after it.</summary>
    public void Abandon(CancellationToken token)
    {
        lock (_gate)
        {
            _abandoned = true;
            if (!_receiving)
            {
                FinishLocked(0, new OperationCanceledException(token));
            }
        }
    }

    public bool IsAbandoned
    {
        get
        {
            lock (_gate)
            {
                return _abandoned;
            }
        }
    }

    public void Succeed(int bytes, byte[]? body = null)
    {
        lock (_gate)
        {
            Body = body;
            FinishLocked(bytes, null);
        }
    }

    public void Fail(Exception error)
    {
        lock (_gate)
        {
            FinishLocked(0, error);
        }
    }

    /// <summary>
    /// Blocks until the request completes, for synchronous readers (Parquet footers are parsed with synchronous
    /// reads). On cancellation the request is abandoned first, so the caller's memory is free when this returns.
    /// </summary>
    public int Wait(CancellationToken cancellationToken)
    {
        // Cancellation abandons the request from the token's callback, which wakes this thread like a completion does:
        // the thread sleeps until something happens, never on a timer.
        using (cancellationToken.Register(static (state, token) => ((PendingRequest)state!).Abandon(token), this))
        {
            lock (_gate)
            {
                while (!_finished)
                {
                    Monitor.Wait(_gate);
                }
            }
        }

        if (_completion.Task.Exception is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error.InnerException ?? error).Throw();
        }

        return _bytes;
    }

    private int _bytes;

    private void FinishLocked(int bytes, Exception? error)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _bytes = bytes;
        if (error is null)
        {
            _completion.TrySetResult(bytes);
        }
        else
        {
            _completion.TrySetException(error);
        }

        // A synchronous reader may be waiting in Wait.
        Monitor.PulseAll(_gate);
    }
}
