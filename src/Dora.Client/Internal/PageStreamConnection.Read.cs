using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Dora.Core.Errors;
using Dora.Core.Protocol;

namespace Dora.Client.Internal;

/// <summary>The loop that reads response frames and routes them to their requests.</summary>
internal sealed partial class PageStreamConnection
{
    private async Task ReadLoopAsync()
    {
        byte[] header = new byte[FrameHeader.Size + sizeof(long)];
        try
        {
            while (true)
            {
                await ReceiveExactlyAsync(header.AsMemory(0, FrameHeader.Size)).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastFrameTicks, Environment.TickCount64);
                FrameHeader frame = FrameHeader.TryRead(header, MaxResponsePayload, out string? problem, out _)
                    ?? throw new InvalidDataException($"malformed frame from the worker: {problem}");
                _pending.TryGetValue(frame.RequestId, out PendingRequest? request);
                switch (frame.Type)
                {
                    case FrameType.Data:
                        await ReceiveDataAsync(frame, request, header).ConfigureAwait(false);
                        break;
                    case FrameType.Error:
                        await ReceiveErrorAsync(frame, request).ConfigureAwait(false);
                        break;
                    case FrameType.HelloOk or FrameType.StatOk or FrameType.ListOk or FrameType.Pong or FrameType.HealthOk:
                        byte[] body = new byte[frame.PayloadLength];
                        await ReceiveExactlyAsync(body).ConfigureAwait(false);
                        if (request is not null)
                        {
                            Complete(request, body.Length, body);
                        }

                        break;
                    default:
                        throw new InvalidDataException($"unexpected frame type 0x{(byte)frame.Type:x2} from the worker");
                }
            }
        }
        catch (Exception e)
        {
            Break(e);
        }
    }

    /// <summary>
    /// A DATA frame: its bytes go straight into the request's memory at their offset; frames must arrive in order
    /// and inside the requested range, or the connection is not trusted any more.
    /// </summary>
    private async Task ReceiveDataAsync(FrameHeader frame, PendingRequest? request, byte[] header)
    {
        if (frame.PayloadLength < sizeof(long))
        {
            throw new InvalidDataException("a DATA frame without its offset");
        }

        await ReceiveExactlyAsync(header.AsMemory(FrameHeader.Size, sizeof(long))).ConfigureAwait(false);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(FrameHeader.Size));
        int count = frame.PayloadLength - sizeof(long);
        if (request is null || request.Type != FrameType.Read || !request.BeginReceive())
        {
            // Abandoned or unknown: the bytes still have to leave the socket.
            await DiscardAsync(count).ConfigureAwait(false);
            if (request is not null && (frame.Flags & FrameBits.End) != 0)
            {
                Fail(request, new OperationCanceledException());
            }

            return;
        }

        try
        {
            long start = offset - request.Offset;
            if (offset != request.NextOffset || start + count > request.Destination.Length)
            {
                throw new InvalidDataException(
                    $"DATA at offset {offset} ({count} bytes) does not continue request {request.Id} (next {request.NextOffset}, end {request.Offset + request.Destination.Length})");
            }

            await ReceiveExactlyAsync(request.Destination.Slice((int)start, count)).ConfigureAwait(false);
            request.NextOffset = offset + count;
        }
        finally
        {
            request.EndReceive();
        }

        if ((frame.Flags & FrameBits.End) != 0)
        {
            Complete(request, (int)(request.NextOffset - request.Offset));
        }
    }

    private async Task ReceiveErrorAsync(FrameHeader frame, PendingRequest? request)
    {
        byte[] body = new byte[frame.PayloadLength];
        await ReceiveExactlyAsync(body).ConfigureAwait(false);
        ErrorCode code;
        string message;
        try
        {
            var reader = new PayloadReader(body);
            code = (ErrorCode)reader.ReadU16();
            message = reader.ReadString();
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"malformed ERROR frame: {e.Message}", e);
        }

        if (frame.RequestId == 0)
        {
            // The worker is closing this connection and says why.
            throw new WorkerRequestException(WorkerId, code, message, isTransient: code != ErrorCode.Unauthenticated && code != ErrorCode.UnsupportedVersion);
        }

        if (request is not null)
        {
            Fail(request, ToException(code, message, request.Path));
        }
    }

    /// <summary>Maps a request's error code to the exception Dora callers already know.</summary>
    private Exception ToException(ErrorCode code, string message, string path) => code switch
    {
        ErrorCode.NotFound => new DoraFileNotFoundException(path),
        ErrorCode.Cancelled => new OperationCanceledException(message),
        _ => new WorkerRequestException(WorkerId, code, $"{code}: {message}", ErrorCodes.IsTransient(code)),
    };

    private async Task DiscardAsync(int count)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Min(count, 1 << 20));
        try
        {
            while (count > 0)
            {
                int chunk = Math.Min(count, scratch.Length);
                await ReceiveExactlyAsync(scratch.AsMemory(0, chunk)).ConfigureAwait(false);
                count -= chunk;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async Task ReceiveExactlyAsync(Memory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int received = await _socket.ReceiveAsync(buffer, SocketFlags.None, _closed.Token).ConfigureAwait(false);
            if (received == 0)
            {
                throw new IOException("the worker closed the connection");
            }

            Interlocked.Exchange(ref _lastFrameTicks, Environment.TickCount64);
            buffer = buffer[received..];
        }
    }
}
