using System.Buffers;
using Apache.Arrow;
using Dora.Core.Resources;
using Dora.Flight.Ipc;
using Dora.Flight.Columnar;
using Dora.Flight.Protocol;
using Dora.Formats;
using Dora.Worker.Reading;
using Grpc.Core;

namespace Dora.Flight;

/// <summary>
/// The <c>batches</c> ticket's DoGet: decoded Parquet row groups, or an Arrow IPC file's batches as stored. Decoding
/// holds a share of the worker's decoding memory (<see cref="FlightOptions.DecodeMemoryBytes"/>) for as long as it takes
/// and no longer; a file whose bytes cannot be decoded is an error naming it, never an unexplained failure.
/// </summary>
internal sealed class BatchStreams(StorageEngine engine, FlightOptions options, ByteBudget decodeBudget, SemaphoreSlim decodeSlots)
{
    private readonly ParquetStreams _parquet = new(engine, options, decodeBudget, decodeSlots);

    /// <summary>A Parquet file's chosen row groups and columns, decoded a batch at a time (<see cref="ParquetStreams"/>).</summary>
    public Task SendParquetAsync(OpenedFile file, DoraTicket ticket, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken) =>
        _parquet.SendAsync(file, ticket, stream, cancellationToken);

    /// <summary>
    /// An Arrow IPC file's record batches (all, or those the ticket's <c>rowGroups</c> name): the schema, dictionary and
    /// batch messages go out as the file stores them. A batch too large for one message is decoded and sent in slices.
    /// </summary>
    public async Task SendArrowAsync(OpenedFile file, DoraTicket ticket, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        ArrowIpcFile.RefuseColumns(file, ticket);

        ArrowIpcFile ipc = await ArrowIpcFile.OpenAsync(engine, file, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<int> indexes = ticket.RowGroups ?? [.. Enumerable.Range(0, ipc.Layout.Batches.Count)];
        foreach (int index in indexes)
        {
            ipc.Layout.Batch(index);
        }

        int passThroughBytes = options.MaxIpcMessageBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(passThroughBytes);
        Apache.Arrow.Ipc.ArrowFileReader? reader = null;
        try
        {
            await stream.WriteMessageAsync(ipc.SchemaMessage).ConfigureAwait(false);
            foreach (ArrowFileLayout.Block dictionary in ipc.Layout.Dictionaries)
            {
                if (dictionary.Length > passThroughBytes)
                {
                    throw new TicketException($"'{file.Path}' has a {dictionary.Length}-byte dictionary, more than the {options.MaxMessageBytes}-byte Flight message limit; read the file with range tickets");
                }

                await stream.WriteMessageAsync(await ipc.ReadMessageAsync(dictionary, buffer, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            }

            foreach (int index in indexes)
            {
                ArrowFileLayout.Block block = ipc.Layout.Batch(index);
                if (block.Length <= passThroughBytes)
                {
                    await stream.WriteMessageAsync(await ipc.ReadMessageAsync(block, buffer, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                    continue;
                }

                reader ??= ipc.OpenReader(cancellationToken);
                using ByteBudget.Lease memory = await decodeBudget.AcquireAsync(2 * block.Length, options.DecodeWait, cancellationToken).ConfigureAwait(false);
                RecordBatch batch;
                try
                {
                    batch = await reader.ReadRecordBatchAsync(index, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (DecodeFailures.IsDamage(e))
                {
                    throw DecodeFailures.Describe($"record batch {index} of '{file.Path}'", e);
                }

                using (batch)
                using (var encoder = new IpcEncoder(batch.Schema))
                {
                    await new BatchSender(encoder, stream, options, $"record batch {index} of '{file.Path}'", recordBatchesOnly: true).SendAsync(batch, 0).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            reader?.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
