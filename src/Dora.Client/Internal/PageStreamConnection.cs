using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Dora.Core.Protocol;
using Dora.Core.Security;
using Dora.Registry;

namespace Dora.Client.Internal;

/// <summary>
/// One client connection to a worker's page stream: requests are multiplexed by id, one background loop reads
/// response frames and routes them, READ bytes go straight from the socket into the caller's memory. Any protocol
/// surprise or silence past the response timeout breaks the connection; its requests fail as transient errors and
/// the pool opens a new one.
/// </summary>
internal sealed partial class PageStreamConnection : IAsyncDisposable
{
    /// <summary>Largest response payload accepted: a 64 MiB page plus its offset, or a large listing.</summary>
    private const int MaxResponsePayload = (64 << 20) + 64;

    private readonly Socket _socket;

    /// <summary>What frames go through once connected: a stream over the socket, or the TLS stream over that.</summary>
    private Stream _connection = Stream.Null;
    private readonly ConcurrentDictionary<ulong, PendingRequest> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private readonly TimeSpan _responseTimeout;
    private SemaphoreSlim _inFlight = new(1, 1);
    private Task _readLoop = Task.CompletedTask;
    private Task _watchdog = Task.CompletedTask;
    private long _nextId;
    private long _lastFrameTicks = Environment.TickCount64;
    private Exception? _failure;

    private PageStreamConnection(Socket socket, string workerId, TimeSpan responseTimeout)
    {
        _socket = socket;
        WorkerId = workerId;
        _responseTimeout = responseTimeout;
    }

    public string WorkerId { get; }

    /// <summary>True once the connection failed or closed; the pool replaces it.</summary>
    public bool IsBroken => _failure is not null || _closed.IsCancellationRequested;

    /// <summary>Connects to the worker's advertised page stream and handshakes (TLS when advertised, then HELLO / HELLO_OK).</summary>
    public static async Task<PageStreamConnection> OpenAsync(WorkerRecord worker, DoraClientOptions options, CancellationToken cancellationToken)
    {
        (string workerId, string host, int port, string? token) = (worker.Id, worker.Host, worker.StreamPort, options.AuthToken);
        (TimeSpan connectTimeout, TimeSpan responseTimeout) = (options.ConnectTimeout, options.ResponseTimeout);
        ClientTls? tls = TlsFor(worker, options);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connection = new PageStreamConnection(socket, workerId, responseTimeout);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connectTimeout);
            try
            {
                await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw ConnectTimedOut(workerId, host, port, connectTimeout);
            }
            catch (SocketException e)
            {
                throw CannotConnect(workerId, host, port, e);
            }

            connection._connection = new NetworkStream(socket, ownsSocket: false);
            if (tls is not null)
            {
                var stream = new SslStream(connection._connection, leaveInnerStreamOpen: false);
                connection._connection = stream;
                var refusal = new StrongBox<string?>();
                try
                {
                    await stream.AuthenticateAsClientAsync(tls.ForHost(host, refusal), timeout.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is AuthenticationException or IOException)
                {
                    throw TlsFailed(worker, tls, refusal.Value, e);
                }
            }

            (byte[] frame, PendingRequest hello) = connection.StartAndPrepareHello(token);
            try
            {
                await connection.SendAsync(frame, timeout.Token).ConfigureAwait(false);
                await hello.Task.WaitAsync(connectTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (NoClientCertificateHint(worker, tls, e) is { } explained)
            {
                throw explained;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(); // reported below as no handshake within the connect timeout
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is ObjectDisposedException or OperationCanceledException)
            {
                // The worker closed the connection while the HELLO was being sent: the read loop saw it first and
                // disposed the stream under the write. Say so, as a failure of this worker, like any other.
                throw NoClientCertificateHint(worker, tls, connection.ConnectionLost()) ?? connection.ConnectionLost();
            }

            connection.ApplyHello(hello.Body!);
            return connection;
        }
        catch (Exception e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            if (e is TimeoutException)
            {
                throw new WorkerRequestException(workerId, null, $"no handshake from {host}:{port} within {connectTimeout.TotalSeconds} s", isTransient: true, e);
            }

            throw;
        }
    }

    /// <summary>Once connected: starts the reader and the watchdog, and registers the HELLO about to be sent.</summary>
    private (byte[] Frame, PendingRequest Hello) StartAndPrepareHello(string? token)
    {
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        _watchdog = WatchAsync();
        byte[] frame = new byte[FrameHeader.Size + 8 + 3 * ((token?.Length ?? 0) + 16)];
        ulong id = NextId();
        int length = BuildHello(frame, id, token);
        return (frame[..length], Register(id, FrameType.Hello, string.Empty, 0, Memory<byte>.Empty));
    }

    /// <summary>
    /// TLS settings for a connection to <paramref name="worker"/>: its record says whether it speaks TLS, and then its
    /// certificate must name the advertised host. A client that requires TLS refuses a plaintext worker before sending
    /// anything, its token least of all.
    /// </summary>
    private static ClientTls? TlsFor(WorkerRecord worker, DoraClientOptions options)
    {
        if (worker.Tls)
        {
            return options.Tls ?? ClientTls.Default;
        }

        if (options.Tls is { Required: true })
        {
            throw new WorkerRequestException(worker.Id, null, ClientTls.PlaintextRefused($"worker '{worker.Id}' ({worker.StreamUri})"), isTransient: false);
        }

        return null;
    }

    /// <summary>
    /// With TLS 1.3 a worker checks the client certificate after the client's side of the handshake is done, so a worker
    /// that requires one closes the connection while the HELLO is sent or awaited: say what may be missing.
    /// </summary>
    private static WorkerRequestException? NoClientCertificateHint(WorkerRecord worker, ClientTls? tls, Exception error)
    {
        string? reason = error switch
        {
            WorkerRequestException { IsTransient: true } failed => failed.Reason,
            IOException or SocketException => error.Message,
            _ => null,
        };
        return tls is { Certificate: null } && reason is not null
            ? new WorkerRequestException(worker.Id, null, $"{reason} before answering HELLO; if it requires client certificates (mutual TLS), present one (--tls-cert/--tls-key)", isTransient: true, error)
            : null;
    }

    /// <summary>A failed handshake: <paramref name="refusal"/> says why the worker's certificate was refused, when it was.</summary>
    private static WorkerRequestException TlsFailed(WorkerRecord worker, ClientTls tls, string? refusal, Exception error) => new(
        worker.Id,
        null,
        $"TLS with worker '{worker.Id}' at {worker.StreamUri} failed, so no token was sent: "
            + (refusal ?? $"{error.Message} (trusted: {tls.Trust.Description}; the certificate must name '{worker.Host}')"),
        isTransient: false,
        error);

    private static WorkerRequestException ConnectTimedOut(string workerId, string host, int port, TimeSpan timeout) =>
        new(workerId, null, $"connecting to {host}:{port} timed out after {timeout.TotalSeconds} s", isTransient: true);

    private static WorkerRequestException CannotConnect(string workerId, string host, int port, SocketException error) =>
        new(workerId, null, $"cannot connect to {host}:{port}: {error.SocketErrorCode}", isTransient: true, error);

    /// <summary>Reads HELLO_OK: the server's in-flight limit bounds ours, so the server never has to stop reading us.</summary>
    private void ApplyHello(byte[] body)
    {
        var reader = new PayloadReader(body);
        ushort version = reader.ReadU16();
        _ = reader.ReadU32();
        uint maxInFlight = reader.ReadU32();
        if (version != ProtocolConstants.Version || maxInFlight == 0)
        {
            throw new WorkerRequestException(WorkerId, null, $"the worker speaks protocol version {version}", isTransient: false);
        }

        _inFlight.Dispose();
        _inFlight = new SemaphoreSlim((int)Math.Min(maxInFlight, 1024), (int)Math.Min(maxInFlight, 1024));
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes at <paramref name="offset"/>, all of <paramref name="version"/>
    /// when it is not null; returns the count (short at the end of the file).
    /// </summary>
    public async Task<int> ReadAsync(string path, long offset, Memory<byte> destination, string? version, CancellationToken cancellationToken)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(ReadFrameSize(path, version));
        try
        {
            ulong id = NextId();
            int length = BuildRead(frame, id, path, offset, destination.Length, version);
            PendingRequest request = await SendRequestAsync(id, FrameType.Read, path, frame, length, offset, destination, cancellationToken).ConfigureAwait(false);
            return await AwaitAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>STAT, LIST, HEALTH, INVALIDATE (<paramref name="flags"/>) or EVICT: returns the JSON body.</summary>
    public async Task<byte[]> QueryAsync(FrameType type, string path, string? after, int limit, CancellationToken cancellationToken, byte flags = 0)
    {
        byte[] frame = new byte[FrameHeader.Size + 16 + ((path.Length + (after?.Length ?? 0)) * 3)];
        ulong id = NextId();
        int length = BuildQuery(frame, id, type, path, after, limit, flags);
        PendingRequest request = await SendRequestAsync(id, type, path, frame, length, 0, Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await AwaitAsync(request, cancellationToken).ConfigureAwait(false);
        return request.Body!;
    }

    private static int BuildHello(byte[] frame, ulong id, string? token)
    {
        var writer = new PayloadWriter(frame);
        writer.WriteU16(ProtocolConstants.Version);
        writer.WriteString(token ?? string.Empty);
        writer.WriteString("dora-dotnet");
        return writer.Finish(FrameType.Hello, FrameBits.None, id);
    }

    private static int ReadFrameSize(string path, string? version) => FrameHeader.Size + 32 + ((path.Length + (version?.Length ?? 0)) * 3);

    /// <summary>READ: path, offset, length, and the version every byte must come from when one is given.</summary>
    private static int BuildRead(byte[] frame, ulong id, string path, long offset, int length, string? version)
    {
        var writer = new PayloadWriter(frame);
        writer.WriteString(path);
        writer.WriteI64(offset);
        writer.WriteI64(length);
        if (version is not null)
        {
            writer.WriteString(version);
        }

        return writer.Finish(FrameType.Read, FrameBits.None, id);
    }

    /// <summary>LOAD, VERIFY and LOCATE: path, offset, length; LOAD then its flags, LOCATE the version.</summary>
    private static int BuildRange(byte[] frame, ulong id, FrameType type, string path, long offset, long length, byte loadFlags = 0, string? version = null)
    {
        var writer = new PayloadWriter(frame);
        writer.WriteString(path);
        writer.WriteI64(offset);
        writer.WriteI64(length);
        if (type == FrameType.Load)
        {
            writer.WriteU8(loadFlags);
        }
        else if (type == FrameType.Locate)
        {
            writer.WriteString(version ?? string.Empty);
        }

        return writer.Finish(type, FrameBits.None, id);
    }

    /// <summary>
    /// LOAD, VERIFY or LOCATE of <c>[offset, offset + length)</c> (length -1: to the end of the file; LOCATE of
    /// <paramref name="version"/>): returns the JSON body.
    /// </summary>
    public async Task<byte[]> RangeQueryAsync(FrameType type, string path, long offset, long length, byte loadFlags, CancellationToken cancellationToken, string? version = null)
    {
        byte[] frame = new byte[FrameHeader.Size + 32 + ((path.Length + (version?.Length ?? 0)) * 3)];
        ulong id = NextId();
        int size = BuildRange(frame, id, type, path, offset, length, loadFlags, version);
        PendingRequest request = await SendRequestAsync(id, type, path, frame, size, 0, Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        await AwaitAsync(request, cancellationToken).ConfigureAwait(false);
        return request.Body!;
    }

    private static int BuildQuery(byte[] frame, ulong id, FrameType type, string path, string? after, int limit, byte flags)
    {
        var writer = new PayloadWriter(frame);
        if (type == FrameType.Health)
        {
            return writer.Finish(type, FrameBits.None, id);
        }

        writer.WriteString(path);
        if (type == FrameType.List)
        {
            writer.WriteString(after ?? string.Empty);
            writer.WriteU32((uint)limit);
        }
        else if (type == FrameType.Invalidate)
        {
            writer.WriteU8(flags);
        }

        return writer.Finish(type, FrameBits.None, id);
    }

    private ulong NextId() => (ulong)Interlocked.Increment(ref _nextId);

    private async Task<PendingRequest> SendRequestAsync(ulong id, FrameType type, string path, byte[] frame, int length, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ThrowIfBroken();
        await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
        PendingRequest request = Register(id, type, path, offset, destination);
        try
        {
            await SendAsync(frame.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Break(e);
            if (e is ObjectDisposedException or OperationCanceledException)
            {
                throw ConnectionLost(); // closed under the write by the read loop: a lost connection, failed over like one
            }

            throw;
        }

        return request;
    }

    private async Task<int> AwaitAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        if (cancellationToken.CanBeCanceled)
        {
            using var registration = cancellationToken.Register(() =>
            {
                request.Abandon(cancellationToken);
                _ = CancelOnServerAsync(request.Id);
            });
            return await request.Task.ConfigureAwait(false);
        }

        return await request.Task.ConfigureAwait(false);
    }

    private PendingRequest Register(ulong id, FrameType type, string path, long offset, Memory<byte> destination)
    {
        var request = new PendingRequest(id, type, path, offset, destination);
        _pending[request.Id] = request;
        if (IsBroken)
        {
            Fail(request, ConnectionLost());
        }

        return request;
    }

    /// <summary>Best effort: tells the worker to stop a request the caller abandoned.</summary>
    private async Task CancelOnServerAsync(ulong requestId)
    {
        try
        {
            byte[] frame = new byte[FrameHeader.Size];
            new FrameHeader(FrameType.Cancel, FrameBits.None, requestId, 0).Write(frame);
            await SendAsync(frame, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or WorkerRequestException or OperationCanceledException)
        {
            // The connection is going away anyway.
        }
    }

    private async Task SendAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfBroken();
            await _connection.WriteAsync(frame, _closed.Token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void ThrowIfBroken()
    {
        if (IsBroken)
        {
            throw ConnectionLost();
        }
    }

    /// <summary>
    /// The error a request on a failed connection sees: the worker's own refusal when it was permanent (a wrong token,
    /// an unsupported version), otherwise a transient connection failure.
    /// </summary>
    private WorkerRequestException ConnectionLost() => _failure is WorkerRequestException { IsTransient: false } refusal
        ? new WorkerRequestException(WorkerId, refusal.Code, refusal.Reason, isTransient: false, refusal)
        : new WorkerRequestException(WorkerId, null, $"the page stream connection failed: {_failure?.Message ?? "closed"}", isTransient: true, _failure);

    /// <summary>Completes a request exactly once and frees its in-flight slot.</summary>
    private void Complete(PendingRequest request, int bytes, byte[]? body = null)
    {
        if (_pending.TryRemove(request.Id, out _))
        {
            request.Succeed(bytes, body);
            ReleaseSlot(request);
        }
    }

    private void Fail(PendingRequest request, Exception error)
    {
        if (_pending.TryRemove(request.Id, out _))
        {
            request.Fail(error);
            ReleaseSlot(request);
        }
    }

    private void ReleaseSlot(PendingRequest request)
    {
        if (request.Type != FrameType.Hello)
        {
            try
            {
                _inFlight.Release();
            }
            catch (ObjectDisposedException)
            {
                // Disposed with the connection.
            }
        }
    }

    /// <summary>Marks the connection failed, closes it and fails every request on it.</summary>
    private void Break(Exception reason)
    {
        Interlocked.CompareExchange(ref _failure, reason, null);
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed.
        }

        _socket.Dispose();
        _connection.Dispose();
        foreach (PendingRequest request in _pending.Values)
        {
            Fail(request, ConnectionLost());
        }
    }

    /// <summary>Breaks a connection that owes responses but has been silent for the response timeout.</summary>
    private async Task WatchAsync()
    {
        try
        {
            while (!_closed.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, _responseTimeout.TotalMilliseconds / 2)), _closed.Token).ConfigureAwait(false);
                long silentMs = Environment.TickCount64 - Interlocked.Read(ref _lastFrameTicks);
                if (!_pending.IsEmpty && silentMs > _responseTimeout.TotalMilliseconds)
                {
                    Break(new TimeoutException($"no frame from the worker for {silentMs / 1000.0:0.#} s"));
                }
                else if (_pending.IsEmpty)
                {
                    Interlocked.Exchange(ref _lastFrameTicks, Environment.TickCount64);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Break(new ObjectDisposedException(nameof(PageStreamConnection)));
        await _readLoop.ConfigureAwait(false);
        await _watchdog.ConfigureAwait(false);
        _closed.Dispose();
        _writeLock.Dispose();
        _inFlight.Dispose();
    }
}
