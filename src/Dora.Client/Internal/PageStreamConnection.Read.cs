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
        // 16 KiB: a small DATA frame (a 4 KiB read) arrives whole with its header in one receive call, while of a large
        // frame at most this much is copied through the buffer before the rest lands in the caller's memory directly.
        var reader = new ConnectionReader(_connection, 16 << 10);
        try
        {
            while (true)
            {
                await FillAsync(reader, FrameHeader.Size).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastFrameTicks, Environment.TickCount64);
                FrameHeader frame = FrameHeader.TryRead(reader.Peek(FrameHeader.Size), MaxResponsePayload, out string? problem, out _)
                    ?? throw new InvalidDataException($"malformed frame from the worker: {problem}");
                reader.Consume(FrameHeader.Size);
                _pending.TryGetValue(frame.RequestId, out PendingRequest? request);
                switch (frame.Type)
                {
                    case FrameType.Data:
                        await ReceiveDataAsync(reader, frame, request).ConfigureAwait(false);
                        break;
                    case FrameType.Error:
                        await ReceiveErrorAsync(reader, frame, request).ConfigureAwait(false);
                        break;
                    case FrameType.HelloOk or FrameType.StatOk or FrameType.ListOk or FrameType.Pong or FrameType.HealthOk or FrameType.LoadOk or FrameType.VerifyOk
                        or FrameType.InvalidateOk or FrameType.EvictOk or FrameType.LocateOk:
                        byte[] body = new byte[frame.PayloadLength];
                        await ReadIntoAsync(reader, body).ConfigureAwait(false);
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
    private async Task ReceiveDataAsync(ConnectionReader reader, FrameHeader frame, PendingRequest? request)
    {
        if (frame.PayloadLength < sizeof(long))
        {
            throw new InvalidDataException("a DATA frame without its offset");
        }

        await FillAsync(reader, sizeof(long)).ConfigureAwait(false);
        long offset = BinaryPrimitives.ReadInt64LittleEndian(reader.Peek(sizeof(long)));
        reader.Consume(sizeof(long));
        int count = frame.PayloadLength - sizeof(long);
        if (request is null || request.Type != FrameType.Read || !request.BeginReceive())
        {
            // Abandoned or unknown: the bytes still have to leave the socket.
            if (!await reader.SkipAsync(count, _closed.Token).ConfigureAwait(false))
            {
                throw new IOException("the worker closed the connection");
            }

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

            await ReadIntoAsync(reader, request.Destination.Slice((int)start, count)).ConfigureAwait(false);
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

    private async Task ReceiveErrorAsync(ConnectionReader reader, FrameHeader frame, PendingRequest? request)
    {
        byte[] body = new byte[frame.PayloadLength];
        await ReadIntoAsync(reader, body).ConfigureAwait(false);
        ErrorCode code;
        string message;
        try
        {
            var fields = new PayloadReader(body);
            code = (ErrorCode)fields.ReadU16();
            message = fields.ReadString();
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
        ErrorCode.VersionMismatch => new VersionMismatchException(path, message),
        ErrorCode.Cancelled => new OperationCanceledException(message),
        _ => new WorkerRequestException(WorkerId, code, $"{code}: {message}", ErrorCodes.IsTransient(code)),
    };

    private async Task FillAsync(ConnectionReader reader, int count)
    {
        if (!await reader.FillAsync(count, _closed.Token).ConfigureAwait(false))
        {
            throw new IOException("the worker closed the connection");
        }
    }

    private async Task ReadIntoAsync(ConnectionReader reader, Memory<byte> destination)
    {
        if (!await reader.ReadIntoAsync(destination, _closed.Token).ConfigureAwait(false))
        {
            throw new IOException("the worker closed the connection");
        }

        Interlocked.Exchange(ref _lastFrameTicks, Environment.TickCount64);
    }
}
