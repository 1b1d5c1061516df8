using Apache.Arrow;
using Dora.Flight.Protocol;
using Grpc.Core;

namespace Dora.Flight.Ipc;

/// <summary>
/// Encodes record batches and sends them as FlightData, halving any batch whose message would pass the message limit
/// so that clients with gRPC's default limits can read every stream.
/// </summary>
internal sealed class BatchSender(IpcEncoder encoder, IAsyncStreamWriter<FlightData> stream, FlightOptions options, bool recordBatchesOnly = false)
{
    /// <summary>Sends <paramref name="batch"/>; with <c>recordBatchesOnly</c> its dictionary messages are left out (already sent).</summary>
    public async Task SendAsync(RecordBatch batch)
    {
        List<IpcMessage> messages = encoder.Encode(batch);
        long bytes = messages.Sum(m => (long)m.Header.Length + m.Body.Length);
        if (bytes > options.MaxIpcMessageBytes)
        {
            if (batch.Length <= 1)
            {
                throw new TicketException($"a single row takes {bytes} bytes, more than the {options.MaxMessageBytes}-byte Flight message limit; read it with range or chunk tickets");
            }

            int half = batch.Length / 2;
            using (RecordBatch first = batch.Slice(0, half))
            {
                await SendAsync(first).ConfigureAwait(false);
            }

            using RecordBatch second = batch.Slice(half, batch.Length - half);
            await SendAsync(second).ConfigureAwait(false);
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
}
