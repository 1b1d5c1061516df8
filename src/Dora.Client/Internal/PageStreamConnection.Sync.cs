using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Dora.Core.Security;
using Dora.Registry;
using Dora.Core.Protocol;

namespace Dora.Client.Internal;

/// <summary>
/// The synchronous path, for callers that read with <see cref="Stream.Read(byte[], int, int)"/> (Parquet.Net parses
/// footers that way). Requests are sent with blocking socket calls and the caller's thread waits for the reader loop
/// to complete them; responses still land directly in the caller's memory.
/// </summary>
internal sealed partial class PageStreamConnection
{
    /// <summary>Connects and handshakes like <see cref="OpenAsync"/>, blocking.</summary>
    public static PageStreamConnection Open(WorkerRecord worker, DoraClientOptions options, CancellationToken cancellationToken)
    {
        (string workerId, string host, int port, string? token) = (worker.Id, worker.Host, worker.StreamPort, options.AuthToken);
        (TimeSpan connectTimeout, TimeSpan responseTimeout) = (options.ConnectTimeout, options.ResponseTimeout);
        ClientTls? tls = TlsFor(worker, options);
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

            connection._connection = new NetworkStream(socket, ownsSocket: false);
            if (tls is not null)
            {
                connection.HandshakeTls(worker, tls, connectTimeout);
            }

            (byte[] frame, PendingRequest hello) = connection.StartAndPrepareHello(token);
            try
            {
                connection.Send(frame);
                hello.Wait(cancellationToken);
            }
            catch (Exception e) when (NoClientCertificateHint(worker, tls, e) is { } explained)
            {
                throw explained;
            }

            connection.ApplyHello(hello.Body!);
            return connection;
        }
        catch
        {
            connection.Break(new ObjectDisposedException(nameof(PageStreamConnection)));
            throw;
        }
    }

    /// <summary>The TLS handshake, blocking, within <paramref name="timeout"/>.</summary>
    private void HandshakeTls(WorkerRecord worker, ClientTls tls, TimeSpan timeout)
    {
        var stream = new SslStream(_connection, leaveInnerStreamOpen: false);
        _connection = stream;
        _socket.ReceiveTimeout = _socket.SendTimeout = (int)timeout.TotalMilliseconds;
        var refusal = new System.Runtime.CompilerServices.StrongBox<string?>();
        try
        {
            stream.AuthenticateAsClient(tls.ForHost(worker.Host, refusal));
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            throw TlsFailed(worker, tls, refusal.Value, e);
        }

        _socket.ReceiveTimeout = _socket.SendTimeout = 0;
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
            _connection.Write(frame);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
