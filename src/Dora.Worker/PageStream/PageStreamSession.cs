using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Worker.Reading;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.PageStream;

/// <summary>
/// One page stream connection: reads request frames, runs up to <see cref="PageStreamOptions.MaxInFlightPerConnection"/>
/// requests at once, and writes their response frames one whole frame at a time. Anything malformed closes this
/// connection only, after an error frame with request id 0.
/// </summary>
internal sealed partial class PageStreamSession : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StorageEngine _engine;
    private readonly PageStreamOptions _options;
    private readonly SemaphoreSlim _bufferedPages;
    private readonly SemaphoreSlim _connectionBuffers;
    private readonly string _workerId;
    private readonly ILogger _logger;
    private readonly Dora.Hosting.RefusalAudit _audit;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _inFlight;
    private readonly ConcurrentDictionary<ulong, CancellationTokenSource> _requests = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _handshakeAbandoned = new();
    private readonly SendOperation _send = new();
    private readonly byte[] _frameHead = new byte[FrameHeader.Size + sizeof(long)];
    private readonly SendPacketsElement[] _fileElements = new SendPacketsElement[2];

    /// <summary>What frames are read from and written to: the socket itself, or the TLS stream over it.</summary>
    private Stream _connection;

    /// <summary>The TLS stream once its handshake succeeded; null on a plaintext connection.</summary>
    private SslStream? _tls;

    /// <summary>Request frames are small: 4 KiB holds several, so pipelined requests cost one receive call.</summary>
    private ConnectionReader _reader;

    public PageStreamSession(Socket socket, StorageEngine engine, PageStreamOptions options, SemaphoreSlim bufferedPages, string workerId, ILogger logger, Dora.Hosting.RefusalAudit audit)
    {
        _audit = audit;
        _socket = socket;
        _engine = engine;
        _options = options;
        _bufferedPages = bufferedPages;
        _connectionBuffers = new SemaphoreSlim(options.MaxBufferedPagesPerConnection, options.MaxBufferedPagesPerConnection);
        _workerId = workerId;
        _logger = logger;
        _inFlight = new SemaphoreSlim(options.MaxInFlightPerConnection, options.MaxInFlightPerConnection);
        _connection = new NetworkStream(socket, ownsSocket: false);
        _reader = new ConnectionReader(_connection, RequestBufferSize);
    }

    private const int RequestBufferSize = 4096;

    /// <summary>
    /// Serves the connection until the peer leaves, a protocol error, idleness, or <paramref name="stopping"/>. Once its
    /// HELLO is accepted, <paramref name="admit"/> says whether a connection slot is free; without one it is refused.
    /// </summary>
    public async Task RunAsync(Func<bool> admit, CancellationToken stopping)
    {
        _engine.Metrics.StreamConnectionOpened();
        try
        {
            await ServeAsync(admit, stopping).ConfigureAwait(false);
        }
        finally
        {
            _engine.Metrics.StreamConnectionClosed();
        }
    }

    private async Task ServeAsync(Func<bool> admit, CancellationToken stopping)
    {
        using var link = stopping.Register(static state => ((CancellationTokenSource)state!).Cancel(), _closing);
        using var idle = new CancellationTokenSource();
        try
        {
            if (!await HandshakeAsync().ConfigureAwait(false))
            {
                return;
            }

            if (!admit())
            {
                await CloseWithErrorAsync(ErrorCode.Unavailable, $"this worker serves at most {_options.MaxConnections} page stream connections").ConfigureAwait(false);
                return;
            }

            while (!_closing.IsCancellationRequested)
            {
                // Idle means no frame and nothing in flight: a long read keeps the connection open.
                idle.CancelAfter(_requests.IsEmpty ? _options.IdleTimeout : Timeout.InfiniteTimeSpan);
                FrameHeader? frame = await ReadHeaderAsync(idle.Token).ConfigureAwait(false);
                idle.TryReset();
                if (frame is not { } request || !await ReceivePayloadAndDispatchAsync(request).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !_closing.IsCancellationRequested)
        {
            Log.IdleClosed(_logger, _socket.RemoteEndPoint?.ToString() ?? "?");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or we are stopping.
        }
    }

    /// <summary>
    /// Receives a request's payload (from the receive buffer when it fits, else into a pooled array) and dispatches it;
    /// false when the connection must close.
    /// </summary>
    private async Task<bool> ReceivePayloadAndDispatchAsync(FrameHeader request)
    {
        if (request.PayloadLength <= _reader.Capacity)
        {
            if (!await _reader.FillAsync(request.PayloadLength, _closing.Token).ConfigureAwait(false))
            {
                return false;
            }

            // Dispatch reads the payload before its first await, so the buffer may be reused right after.
            Task<bool> dispatch = DispatchAsync(request, _reader.PeekMemory(request.PayloadLength));
            _reader.Consume(request.PayloadLength);
            return await dispatch.ConfigureAwait(false);
        }

        byte[] payload = ArrayPool<byte>.Shared.Rent(request.PayloadLength);
        try
        {
            return await _reader.ReadIntoAsync(payload.AsMemory(0, request.PayloadLength), _closing.Token).ConfigureAwait(false)
                && await DispatchAsync(request, payload.AsMemory(0, request.PayloadLength)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    /// <summary>
    /// The first frame must be HELLO with this version and, if one is configured, the token, all of it within
    /// <see cref="PageStreamOptions.HelloTimeout"/>.
    /// </summary>
    private async Task<bool> HandshakeAsync()
    {
        using var deadline = new CancellationTokenSource(_options.HelloTimeout, _options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _handshakeAbandoned.Token, _closing.Token);
        try
        {
            return (_options.Tls is null || await HandshakeTlsAsync(_options.Tls, linked.Token).ConfigureAwait(false))
                && await ReadHelloAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !_closing.IsCancellationRequested)
        {
            Log.HelloTimedOut(_logger, _socket.RemoteEndPoint?.ToString() ?? "?", _options.HelloTimeout.TotalSeconds);
            return false;
        }
        catch (OperationCanceledException) when (_handshakeAbandoned.IsCancellationRequested && !_closing.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// The TLS handshake, before any frame: a peer that fails it (plaintext, a certificate the worker does not trust when
    /// client certificates are required) is audited like a refused token and closed without a frame.
    /// </summary>
    private async Task<bool> HandshakeTlsAsync(Dora.Core.Security.ServerTls tls, CancellationToken deadline)
    {
        var stream = new SslStream(_connection, leaveInnerStreamOpen: false);
        try
        {
            await stream.AuthenticateAsServerAsync(tls.ForHandshake(), deadline).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            _audit.Refused(_socket.RemoteEndPoint?.ToString() ?? "?", $"TLS handshake failed: {e.Message}");
            await stream.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        _tls = stream;
        _connection = stream;
        _reader = new ConnectionReader(stream, RequestBufferSize);
        return true;
    }

    /// <summary>Gives up on a connection still to complete its HELLO (the server needs its slot for a newer one).</summary>
    public void AbandonHandshake() => _handshakeAbandoned.Cancel();

    private async Task<bool> ReadHelloAsync(CancellationToken deadline)
    {
        FrameHeader? frame = await ReadHeaderAsync(deadline).ConfigureAwait(false);
        if (frame is not { } hello)
        {
            return false;
        }

        if (hello.Type != FrameType.Hello)
        {
            await CloseWithErrorAsync(ErrorCode.BadFrame, $"the first frame must be HELLO (0x01), not 0x{(byte)hello.Type:x2}").ConfigureAwait(false);
            return false;
        }

        byte[] payload = new byte[hello.PayloadLength];
        if (!await _reader.ReadIntoAsync(payload, deadline).ConfigureAwait(false))
        {
            return false;
        }

        ushort version;
        string token;
        try
        {
            var reader = new PayloadReader(payload);
            version = reader.ReadU16();
            token = reader.ReadString();
            _ = reader.ReadString();
            reader.EnsureEnd();
        }
        catch (FormatException e)
        {
            await CloseWithErrorAsync(ErrorCode.BadFrame, $"malformed HELLO: {e.Message}").ConfigureAwait(false);
            return false;
        }

        if (version != ProtocolConstants.Version)
        {
            await CloseWithErrorAsync(ErrorCode.UnsupportedVersion, $"protocol version {version} is not served; this worker speaks version {ProtocolConstants.Version}").ConfigureAwait(false);
            return false;
        }

        if (_options.Tokens is { } tokens && !tokens.Accepts(token))
        {
            _audit.Refused(_socket.RemoteEndPoint?.ToString() ?? "?", token.Length == 0 ? "no token" : "a token that is not accepted");
            await CloseWithErrorAsync(ErrorCode.Unauthenticated, token.Length == 0 ? "this worker requires a token" : "the token is not accepted").ConfigureAwait(false);
            return false;
        }

        byte[] reply = new byte[128 + Encoding.UTF8.GetMaxByteCount(_workerId.Length)];
        var writer = new PayloadWriter(reply);
        writer.WriteU16(ProtocolConstants.Version);
        writer.WriteU32(ProtocolConstants.MaxRequestPayload);
        writer.WriteU32((uint)_options.MaxInFlightPerConnection);
        writer.WriteU32((uint)_engine.Pages.PageSize);
        writer.WriteU32((uint)_options.IdleTimeout.TotalSeconds);
        writer.WriteString(_workerId);
        int length = writer.Finish(FrameType.HelloOk, FrameBits.None, hello.RequestId);
        await WriteAsync(reply.AsMemory(0, length)).ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads and checks a header; null (after an error frame where possible) when the connection must end.</summary>
    private async Task<FrameHeader?> ReadHeaderAsync(CancellationToken idle)
    {
        if (_reader.Buffered < FrameHeader.Size)
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(idle, _closing.Token);
            if (!await _reader.FillAsync(FrameHeader.Size, either.Token).ConfigureAwait(false))
            {
                return null;
            }
        }

        FrameHeader? frame = FrameHeader.TryRead(_reader.Peek(FrameHeader.Size), ProtocolConstants.MaxRequestPayload, out string? problem, out bool tooLarge);
        _reader.Consume(FrameHeader.Size);
        if (frame is null)
        {
            await CloseWithErrorAsync(tooLarge ? ErrorCode.FrameTooLarge : ErrorCode.BadFrame, problem!).ConfigureAwait(false);
        }

        return frame;
    }

    /// <summary>Handles one request frame; false when the connection must close.</summary>
    private async Task<bool> DispatchAsync(FrameHeader frame, ReadOnlyMemory<byte> payload)
    {
        switch (frame.Type)
        {
            case FrameType.Ping:
                if (payload.Length > ProtocolConstants.MaxPingPayload)
                {
                    await CloseWithErrorAsync(ErrorCode.BadFrame, $"PING payload of {payload.Length} bytes exceeds {ProtocolConstants.MaxPingPayload}").ConfigureAwait(false);
                    return false;
                }

                await WriteSmallFrameAsync(FrameType.Pong, frame.RequestId, payload.Span).ConfigureAwait(false);
                return true;
            case FrameType.Cancel:
                if (_requests.TryGetValue(frame.RequestId, out CancellationTokenSource? cancel))
                {
                    await cancel.CancelAsync().ConfigureAwait(false);
                }

                return true;
            case FrameType.Read or FrameType.Stat or FrameType.List or FrameType.Health or FrameType.Load or FrameType.Verify or FrameType.Invalidate or FrameType.Evict or FrameType.Locate:
                Request request;
                try
                {
                    request = Request.Parse(frame, payload.Span);
                }
                catch (FormatException e)
                {
                    await CloseWithErrorAsync(ErrorCode.BadFrame, $"malformed {frame.Type} request {frame.RequestId}: {e.Message}").ConfigureAwait(false);
                    return false;
                }

                await _inFlight.WaitAsync(_closing.Token).ConfigureAwait(false);
                var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
                if (!_requests.TryAdd(frame.RequestId, cancellation))
                {
                    cancellation.Dispose();
                    _inFlight.Release();
                    await WriteErrorAsync(frame.RequestId, ErrorCode.DuplicateRequestId, $"request id {frame.RequestId} is already in flight on this connection").ConfigureAwait(false);
                    return true;
                }

                _ = RunRequestAsync(request, cancellation);
                return true;
            default:
                await CloseWithErrorAsync(ErrorCode.BadFrame, $"frame type 0x{(byte)frame.Type:x2} is not a request").ConfigureAwait(false);
                return false;
        }
    }

    private async Task RunRequestAsync(Request request, CancellationTokenSource cancellation)
    {
        _engine.Metrics.StreamRequest();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await (request.Type switch
            {
                FrameType.Read => ReadAsync(request, cancellation.Token),
                FrameType.Stat => StatAsync(request, cancellation.Token),
                FrameType.Health => HealthAsync(request),
                FrameType.Load => LoadAsync(request, cancellation.Token),
                FrameType.Verify => VerifyAsync(request, cancellation.Token),
                FrameType.Invalidate => InvalidateAsync(request, cancellation.Token),
                FrameType.Evict => EvictAsync(request, cancellation.Token),
                FrameType.Locate => LocateAsync(request, cancellation.Token),
                _ => ListAsync(request, cancellation.Token),
            }).ConfigureAwait(false);
        }
        catch (Exception e) when (!_closing.IsCancellationRequested)
        {
            _engine.Metrics.StreamRequestFailed();
            (ErrorCode code, string message) = Classify(e, cancellation.IsCancellationRequested);
            if (code == ErrorCode.Internal)
            {
                Log.RequestFailed(_logger, request.Type.ToString(), request.Path, e);
            }

            try
            {
                await WriteErrorAsync(request.Id, code, message).ConfigureAwait(false);
            }
            catch (Exception writeError) when (writeError is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The connection is gone; nothing to tell.
            }
        }
        catch (Exception)
        {
            // Closing: the connection goes away with the request.
        }
        finally
        {
            _engine.Metrics.StreamRequestTook(System.Diagnostics.Stopwatch.GetElapsedTime(started), request.Type.Name());
            _requests.TryRemove(request.Id, out _);
            cancellation.Dispose();
            _inFlight.Release();
        }
    }

    private static (ErrorCode Code, string Message) Classify(Exception error, bool cancelled) => error switch
    {
        OperationCanceledException when cancelled => (ErrorCode.Cancelled, "the request was cancelled"),
        InvalidPathException => (ErrorCode.InvalidPath, error.Message),
        DoraFileNotFoundException => (ErrorCode.NotFound, error.Message),
        InvalidRangeException => (ErrorCode.InvalidRange, error.Message),
        VersionMismatchException => (ErrorCode.VersionMismatch, error.Message),
        DoraException => (ErrorCode.Unavailable, error.Message),
        _ => (ErrorCode.Internal, $"internal error: {error.GetType().Name}"),
    };

    private async Task ReadAsync(Request request, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(request.Path);
        OpenedFile file = await _engine.OpenAsync(path, expectedVersion: request.After, cancellationToken).ConfigureAwait(false);
        long end = file.RangeEnd(request.Offset, request.Length);
        long position = request.Offset;
        int pageSize = _engine.Pages.PageSize;
        if (position == end)
        {
            await WriteSmallFrameAsync(FrameType.Data, request.Id, stackalloc byte[sizeof(long)], FrameBits.End, position).ConfigureAwait(false);
            return;
        }

        while (position < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long pageIndex = position / pageSize;
            int inPage = (int)(position % pageSize);
            int count = (int)Math.Min(pageSize - inPage, end - position);
            FrameBits bits = position + count == end ? FrameBits.End : FrameBits.None;
            using (var cached = _tls is null && count >= _options.SendfileThreshold ? _engine.Pages.TryOpenChecked(file.Source, pageIndex, inPage, count) : null)
            {
                if (cached is not null)
                {
                    await SendFileFrameAsync(request.Id, position, cached, inPage, count, bits).ConfigureAwait(false);
                    _engine.NoteRead(file, position, count);
                    position += count;
                    continue;
                }
            }

            await SendReadThroughFrameAsync(request.Id, file, position, count, bits, cancellationToken).ConfigureAwait(false);
            position += count;
        }
    }
}
