using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Dora.Core.Protocol;

namespace Dora.Client.Internal;

/// <summary>
/// The synchronous path, for callers that read with <see cref="Stream.Read(byte[], int, int)"/> (Parquet.Net parses
/// footers that way). Requests are sent with blocking socket calls and the caller's thread waits for the reader loop
/// to complete them; responses still land directly in the caller's memory.
/// </summary>
internal sealed partial class PageStreamConnection
{
    /// <summary>Connects and handshakes, blocking.</summary>
    public static PageStreamConnection Open(
        string workerId, string host, int port, string? token, TimeSpan connectTimeout, TimeSpan responseTimeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new PageStreamConnection(socket, workerId, responseTimeout);
        try
        {
            IAsyncResult connecting = socket.BeginConnect(host, port, null, null);
            if (WaitHandle.WaitAny([connecting.AsyncWaitHandle, cancellationToken.WaitHandle], connectTimeout) != 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw ConnectTimedOut(workerId, host, port, connectTimeout);
            }

            try
            {
                socket.EndConnect(connecting);
            }
            catch (SocketException e)
            {
                throw CannotConnect(workerId, host, port, e);
            }

            (byte[] frame, PendingRequest hello) = connection.StartAndPrepareHello(token);
            connection.Send(frame);
            hello.Wait(cancellationToken);
            connection.ApplyHello(hello.Body!);
            return connection;
        }
        catch
        {
            connection.Break(new ObjectDisposedException(nameof(PageStreamConnection)));
            throw;
        }
    }

    /// <summary>Reads like <see cref="ReadAsync"/>, blocking the calling thread.</summary>
    public int Read(string path, long offset, Memory<byte> destination, string? version, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        _inFlight.Wait(cancellationToken);
        byte[] frame = ArrayPool<byte>.Shared.Rent(ReadFrameSize(path, version));
        PendingRequest request;
        try
        {
            ulong id = NextId();
            int length = BuildRead(frame, id, path, offset, destination.Length, version);
            request = Register(id, FrameType.Read, path, offset, destination);
            try
            {
                Send(frame.AsSpan(0, length));
            }
            catch (Exception e)
            {
                Break(e);
                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }

        try
        {
            return request.Wait(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = CancelOnServerAsync(request.Id);
            throw;
        }
    }

    private void Send(ReadOnlySpan<byte> frame)
    {
        _writeLock.Wait();
        try
        {
            ThrowIfBroken();
            while (!frame.IsEmpty)
            {
                frame = frame[_socket.Send(frame, SocketFlags.None)..];
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
