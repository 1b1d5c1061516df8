using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Worker.Pages;
using Dora.Worker.Reading;

namespace Dora.Worker.PageStream;

/// <summary>Stat and list requests, and everything that writes frames.</summary>
internal sealed partial class PageStreamSession
{
    private async Task StatAsync(Request request, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(request.Path);
        FileInfoResult info = await _engine.GetInfoAsync(path, cancellationToken).ConfigureAwait(false);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(StatusReplies.Stat(info), ProtocolJson.Default.StatReply);
        await WriteSmallFrameAsync(FrameType.StatOk, request.Id, json).ConfigureAwait(false);
    }

    private Task HealthAsync(Request request)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(StatusReplies.Health(_engine, _workerId), ProtocolJson.Default.HealthReply);
        return WriteSmallFrameAsync(FrameType.HealthOk, request.Id, json);
    }

    private async Task LoadAsync(Request request, CancellationToken cancellationToken)
    {
        LoadReply reply = await _engine.LoadAsync(DoraPath.Parse(request.Path), request.Offset, RangeLength(request), refresh: (request.Flags & ProtocolConstants.LoadRefresh) != 0, cancellationToken).ConfigureAwait(false);
        await WriteSmallFrameAsync(FrameType.LoadOk, request.Id, JsonSerializer.SerializeToUtf8Bytes(reply, ProtocolJson.Default.LoadReply)).ConfigureAwait(false);
    }

    private async Task VerifyAsync(Request request, CancellationToken cancellationToken)
    {
        VerifyReply reply = await _engine.VerifyAsync(DoraPath.Parse(request.Path), request.Offset, RangeLength(request), cancellationToken).ConfigureAwait(false);
        await WriteSmallFrameAsync(FrameType.VerifyOk, request.Id, JsonSerializer.SerializeToUtf8Bytes(reply, ProtocolJson.Default.VerifyReply)).ConfigureAwait(false);
    }

    private async Task InvalidateAsync(Request request, CancellationToken cancellationToken)
    {
        bool recursive = (request.Flags & ProtocolConstants.InvalidateRecursive) != 0;
        InvalidateReply reply = await _engine.InvalidateAsync(DoraPath.Parse(request.Path), recursive, cancellationToken).ConfigureAwait(false);
        await WriteSmallFrameAsync(FrameType.InvalidateOk, request.Id, JsonSerializer.SerializeToUtf8Bytes(reply, ProtocolJson.Default.InvalidateReply)).ConfigureAwait(false);
    }

    private async Task EvictAsync(Request request, CancellationToken cancellationToken)
    {
        EvictReply reply = await _engine.EvictAsync(DoraPath.Parse(request.Path), cancellationToken).ConfigureAwait(false);
        await WriteSmallFrameAsync(FrameType.EvictOk, request.Id, JsonSerializer.SerializeToUtf8Bytes(reply, ProtocolJson.Default.EvictReply)).ConfigureAwait(false);
    }

    private async Task LocateAsync(Request request, CancellationToken cancellationToken)
    {
        OpenedFile file = await _engine.OpenAsync(DoraPath.Parse(request.Path), expectedVersion: request.After, cancellationToken).ConfigureAwait(false);
        long end = file.RangeEnd(request.Offset, request.Length);
        int pageSize = _engine.Pages.PageSize;
        var pages = new List<PageLocation>();
        for (long index = request.Offset / pageSize, last = Math.Min((end - 1) / pageSize, index + ProtocolConstants.MaxLocatePages - 1); index <= last && end > 0; index++)
        {
            if (_engine.Pages.Locate(file.Source, index) is { } page)
            {
                pages.Add(page);
                _engine.NoteRead(file, index * pageSize, page.Length); // the reader's stream still drives the worker's read-ahead
            }
        }

        _engine.Metrics.StreamLocated(pages.Count);
        var reply = new LocateReply(file.Path.Value, _workerId, pageSize, pages);
        await WriteSmallFrameAsync(FrameType.LocateOk, request.Id, JsonSerializer.SerializeToUtf8Bytes(reply, ProtocolJson.Default.LocateReply)).ConfigureAwait(false);
    }

    /// <summary>LOAD and VERIFY take a length of -1 for "to the end of the file".</summary>
    private static long? RangeLength(Request request) => request.Length == -1 ? null : request.Length;

    private async Task ListAsync(Request request, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(request.Path);
        var page = await _engine.ListAsync(path, request.After, request.Limit, cancellationToken).ConfigureAwait(false);
        var entries = new ListEntry[page.Entries.Count];
        for (int i = 0; i < entries.Length; i++)
        {
            var child = page.Entries[i];
            entries[i] = new ListEntry(child.Name, child.IsDirectory, child.Length, child.LastModified, child.ETag);
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new ListReply(entries, page.NextToken), ProtocolJson.Default.ListReply);
        await WriteSmallFrameAsync(FrameType.ListOk, request.Id, json).ConfigureAwait(false);
    }

    /// <summary>A DATA frame whose bytes go from the page file to the socket with sendfile.</summary>
    private async Task SendFileFrameAsync(ulong requestId, long fileOffset, CachedPageFile page, int offsetInPage, int count, FrameBits bits)
    {
        await AcquireWriteAsync().ConfigureAwait(false);
        try
        {
            new FrameHeader(FrameType.Data, bits, requestId, sizeof(long) + count).Write(_frameHead);
            BinaryPrimitives.WriteInt64LittleEndian(_frameHead.AsSpan(FrameHeader.Size), fileOffset);
            _fileElements[0] = new SendPacketsElement(_frameHead, 0, _frameHead.Length);
            _fileElements[1] = new SendPacketsElement(page.Stream, page.DataOffset + offsetInPage, count, endOfPacket: true);
            await WithWriteTimeout(_send.SendAsync(_socket, _fileElements), _frameHead.Length + count).ConfigureAwait(false);
            _engine.Metrics.StreamSent(count, sendfile: true);
        }
        finally
        {
            _fileElements[1] = null!;
            _writeLock.Release();
        }
    }

    /// <summary>A DATA frame read through the engine (a miss, or a page not yet verified), within the buffered-page budget.</summary>
    private async Task SendReadThroughFrameAsync(ulong requestId, OpenedFile file, long position, int count, FrameBits bits, CancellationToken cancellationToken)
    {
        // This connection's share first, then the worker's: a connection never holds more than its share of the buffers.
        await _connectionBuffers.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _bufferedPages.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _connectionBuffers.Release();
            throw;
        }

        byte[] frame = ArrayPool<byte>.Shared.Rent(FrameHeader.Size + sizeof(long) + count);
        try
        {
            int read = await _engine.ReadAsync(file, position, frame.AsMemory(FrameHeader.Size + sizeof(long), count), cancellationToken).ConfigureAwait(false);
            if (read != count)
            {
                throw new IOException($"'{file.Path}' ended after {position + read} bytes while {position + count} were expected.");
            }

            new FrameHeader(FrameType.Data, bits, requestId, sizeof(long) + count).Write(frame);
            BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(FrameHeader.Size), position);
            await WriteAsync(frame.AsMemory(0, FrameHeader.Size + sizeof(long) + count)).ConfigureAwait(false);
            _engine.Metrics.StreamSent(count, sendfile: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
            _bufferedPages.Release();
            _connectionBuffers.Release();
        }
    }

    /// <summary>A frame whose payload is <paramref name="payload"/>, or for DATA an offset (<paramref name="dataOffset"/>) and no bytes.</summary>
    private Task WriteSmallFrameAsync(FrameType type, ulong requestId, ReadOnlySpan<byte> payload, FrameBits bits = FrameBits.None, long dataOffset = 0)
    {
        byte[] frame = ArrayPool<byte>.Shared.Rent(FrameHeader.Size + payload.Length);
        int length = FrameHeader.Size + payload.Length;
        new FrameHeader(type, bits, requestId, payload.Length).Write(frame);
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        if (type == FrameType.Data)
        {
            BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(FrameHeader.Size), dataOffset);
        }

        return WriteRentedAsync(frame, length);
    }

    private async Task WriteRentedAsync(byte[] frame, int length)
    {
        try
        {
            await WriteAsync(frame.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private Task WriteErrorAsync(ulong requestId, ErrorCode code, string message)
    {
        // Messages are capped so an error frame stays small whatever a path holds.
        if (message.Length > 1024)
        {
            message = message[..1024];
        }

        byte[] frame = new byte[FrameHeader.Size + 4 + (message.Length * 3)];
        var writer = new PayloadWriter(frame);
        writer.WriteU16((ushort)code);
        writer.WriteString(message);
        int length = writer.Finish(FrameType.Error, FrameBits.None, requestId);
        return WriteAsync(frame.AsMemory(0, length));
    }

    /// <summary>Refuses a connection before any frame is read.</summary>
    public Task RefuseAsync(ErrorCode code, string message) => CloseWithErrorAsync(code, message);

    /// <summary>Says why (request id 0) and closes the connection.</summary>
    private async Task CloseWithErrorAsync(ErrorCode code, string message)
    {
        Log.ConnectionRejected(_logger, _socket.RemoteEndPoint?.ToString() ?? "?", code.ToString(), message);
        try
        {
            // A TLS peer that has not finished its handshake could not read a plaintext frame.
            if (_options.Tls is null || _tls is not null)
            {
                await WriteErrorAsync(0, code, message).ConfigureAwait(false);
            }

            if (_tls is not null)
            {
                await _tls.ShutdownAsync().ConfigureAwait(false);
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is already gone.
        }

        await _closing.CancelAsync().ConfigureAwait(false);
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> frame)
    {
        await AcquireWriteAsync().ConfigureAwait(false);
        try
        {
            await WithWriteTimeout(_connection.WriteAsync(frame, _closing.Token), frame.Length).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private Task AcquireWriteAsync() => _writeLock.WaitAsync(_closing.Token);

    /// <summary>
    /// A write the peer does not take in time closes the connection (it is in an unknown state): the time is the grace
    /// plus the bytes at the minimum data rate, at most the write timeout.
    /// </summary>
    private async Task WithWriteTimeout(ValueTask send, int bytes)
    {
        TimeSpan allowed = WriteAllowance(bytes);
        try
        {
            await send.AsTask().WaitAsync(allowed, _options.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw SlowReader(bytes, allowed);
        }
    }

    private TimeSpan WriteAllowance(int bytes)
    {
        TimeSpan allowed = _options.MinDataRateGrace + TimeSpan.FromSeconds((double)bytes / _options.MinDataRate);
        return allowed < _options.WriteTimeout ? allowed : _options.WriteTimeout;
    }

    private IOException SlowReader(int bytes, TimeSpan allowed)
    {
        _engine.Metrics.StreamSlowReaderClosed();
        Log.SlowReader(_logger, _socket.RemoteEndPoint?.ToString() ?? "?", bytes, allowed.TotalSeconds);
        _socket.Close(0);
        return new IOException($"the client did not take a {bytes}-byte frame within {allowed.TotalSeconds:0.#} s (minimum data rate {_options.MinDataRate} bytes/s after a {_options.MinDataRateGrace.TotalSeconds:0.#} s grace)");
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync().ConfigureAwait(false);

        // Wait for running requests to notice, so their buffers and pins are released before the socket goes.
        for (int i = 0; i < 200 && !_requests.IsEmpty; i++)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }

        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }

        _socket.Dispose();
        _send.Dispose();
        _closing.Dispose();
        _handshakeAbandoned.Dispose();
        _writeLock.Dispose();
        _inFlight.Dispose();
    }
}
