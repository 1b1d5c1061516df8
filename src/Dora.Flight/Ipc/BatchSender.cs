using Apache.Arrow;
using Dora.Flight.Protocol;
using Grpc.Core;

namespace Dora.Flight.Ipc;

/// <summary>
/// Encodes record batches and sends them as FlightData, halving any batch whose message would pass the message limit
/// so that clients with gRPC's default limits can read every stream. A single row too large for one message is an
/// error naming the piece of the file (<c>row group 3 of '/lake/x.parquet'</c>), the row and the column that holds the
/// large value. With <c>recordBatchesOnly</c> the dictionary messages of a batch are left out (already sent).
/// </summary>
internal sealed class BatchSender(IpcEncoder encoder, IAsyncStreamWriter<FlightData> stream, FlightOptions options, string piece, bool recordBatchesOnly = false)
{
    /// <summary>
    /// Sends <paramref name="batch"/>, whose first row is row <paramref name="firstRow"/> of the piece.
    /// </summary>
    /// <exception cref="TicketException">One row is larger than a message may be.</exception>
    public async Task SendAsync(RecordBatch batch, long firstRow)
    {
        List<IpcMessage> messages = encoder.Encode(batch);
        long bytes = messages.Sum(m => (long)m.Header.Length + m.Body.Length);
        if (bytes > options.MaxIpcMessageBytes)
        {
            if (batch.Length <= 1)
            {
                throw new TicketException($"row {firstRow} of {piece} takes {bytes} bytes (column '{LargestColumn(batch)}'), more than the {options.MaxMessageBytes}-byte Flight message limit; read those bytes with range tickets");
            }

            // The halves share the batch's buffers, so they are not disposed: that would free what the batch
            // (disposed by its owner) still holds.
            int half = batch.Length / 2;
            await SendAsync(batch.Slice(0, half), firstRow).ConfigureAwait(false);
            await SendAsync(batch.Slice(half, batch.Length - half), firstRow + half).ConfigureAwait(false);
            return;
        }

        foreach (IpcMessage message in messages)
        {
            if (!recordBatchesOnly || message.HeaderType == IpcMessage.RecordBatch)
            {
                await stream.WriteMessageAsync(message).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The column whose value takes the most bytes in a one-row batch, by encoding each column alone.</summary>
    private static string LargestColumn(RecordBatch row)
    {
        string largest = string.Empty;
        long most = -1;
        for (int c = 0; c < row.ColumnCount; c++)
        {
            Field field = row.Schema.GetFieldByIndex(c);
            var schema = new Schema([field], null);
            using var single = new IpcEncoder(schema);
            long bytes = single.Encode(new RecordBatch(schema, [row.Column(c)], row.Length)).Sum(m => (long)m.Body.Length);
            if (bytes > most)
            {
                (largest, most) = (field.Name, bytes);
            }
        }

        return largest;
    }
}
