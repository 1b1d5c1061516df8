using System.Buffers;
using Dora.Flight.Ipc;
using Dora.Flight.Protocol;
using Dora.Worker.Reading;
using Grpc.Core;

namespace Dora.Flight;

/// <summary>
/// Streams <c>[offset, end)</c> of a file as <c>range</c> batches. Each batch's pages are read straight into the
/// body buffer that gRPC then sends, and the next batch is read while the previous one is being sent.
/// </summary>
internal sealed class RangeStream(StorageEngine engine, FlightOptions options)
{
    private int BatchDataBytes => options.BatchDataBytes;

    public async Task SendAsync(OpenedFile file, long offset, long end, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        await stream.WriteMessageAsync(RangeBatches.SchemaMessage).ConfigureAwait(false);
        int pageSize = engine.Pages.PageSize;
        int maxRows = (BatchDataBytes / Math.Min(pageSize, BatchDataBytes)) + 2;
        int bufferBytes = RangeBatches.BodyLength(maxRows, BatchDataBytes);
        byte[][] buffers = [ArrayPool<byte>.Shared.Rent(bufferBytes), ArrayPool<byte>.Shared.Rent(bufferBytes)];
        var lengths = new List<int>(maxRows);
        Task sending = Task.CompletedTask;
        try
        {
            for (int batch = 0; offset < end; batch++)
            {
                long start = offset;
                int filled = 0;
                lengths.Clear();
                while (offset < end)
                {
                    // Pieces end at page boundaries, so each row is (part of) one page.
                    int piece = (int)Math.Min(Math.Min(pageSize - (offset % pageSize), end - offset), BatchDataBytes);
                    if (filled + piece > BatchDataBytes)
                    {
                        break;
                    }

                    lengths.Add(piece);
                    filled += piece;
                    offset += piece;
                }

                byte[] body = buffers[batch % 2];
                int dataStart = RangeBatches.DataStart(lengths.Count);
                await engine.ReadExactlyAsync(file, start, body.AsMemory(dataStart, filled), cancellationToken).ConfigureAwait(false);
                byte[] header = RangeBatches.Complete(body, start, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(lengths));
                await sending.ConfigureAwait(false);
                sending = stream.WriteMessageAsync(new IpcMessage(header, body.AsMemory(0, RangeBatches.BodyLength(lengths.Count, filled))));
            }

            await sending.ConfigureAwait(false);
        }
        finally
        {
            // A failed read leaves the previous send running over its buffer: let it finish before the buffers go back.
            await sending.ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffers[0]);
            ArrayPool<byte>.Shared.Return(buffers[1]);
        }
    }
}
