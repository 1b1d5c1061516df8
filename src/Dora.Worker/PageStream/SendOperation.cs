using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Dora.Worker.PageStream;

/// <summary>
/// One reusable awaitable <see cref="Socket.SendPacketsAsync(SocketAsyncEventArgs)"/>: a frame header from memory
/// followed by a region of a page file, which .NET sends with sendfile(2) on Linux, so cached bytes never enter user
/// space. A connection's writes are serialized, so one instance serves them all.
/// </summary>
internal sealed class SendOperation : SocketAsyncEventArgs, IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _source = new() { RunContinuationsAsynchronously = true };

    public SendOperation()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Sends the elements; completes when all are handed to the kernel.</summary>
    public ValueTask SendAsync(Socket socket, SendPacketsElement[] elements)
    {
        _source.Reset();
        SendPacketsElements = elements;
        if (!socket.SendPacketsAsync(this))
        {
            Complete();
        }

        return new ValueTask(this, _source.Version);
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => Complete();

    private void Complete()
    {
        SendPacketsElements = null;
        if (SocketError == SocketError.Success)
        {
            _source.SetResult(true);
        }
        else
        {
            _source.SetException(new SocketException((int)SocketError));
        }
    }

    public void GetResult(short token) => _source.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
