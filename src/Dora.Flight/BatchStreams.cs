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
internal sealed class BatchStreams(StorageEngine engine, FlightOptions options, ByteBudget decodeBudget)
{
    /// <summary>
    /// Copies of a batch's data that exist at once while it is sent: Arrow's decoded arrays, the IPC encoding, and the
    /// halves a batch is split into when its message would pass the limit (values decoded from dictionary pages can
    /// also outgrow their Parquet size).
    /// </summary>
    private const int DecodedCopiesPerBatch = 4;

    /// <summary>
    /// A Parquet file's row groups decoded by Arrow's Parquet reader, a batch at a time: the batch's row count is sized
    /// from the footer so a batch holds about one message of data, and the call leases the memory for one batch in
    /// flight (its column buffers and the decoded and encoded batch) for as long as it runs. A row group of any size
    /// streams; nothing holds it whole.
    /// </summary>
    public async Task SendParquetAsync(OpenedFile file, DoraTicket ticket, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        (ParquetArrowFile parquet, ParquetColumns.Selection selection, IReadOnlyList<int> rowGroups, long batchRows) = await OpenParquetAsync(file, ticket, cancellationToken).ConfigureAwait(false);
        using (parquet)
        {
            Schema schema = parquet.SchemaOf(selection);
            long bytesPerRow = BytesPerRow(parquet, rowGroups, selection);
            long estimate = ((selection.Leaves?.Length ?? parquet.Columns.LeafCount) * 2 * ParquetArrowFile.ColumnBufferBytes) + (batchRows * bytesPerRow * DecodedCopiesPerBatch);
            using ByteBudget.Lease memory = await decodeBudget.AcquireAsync(Math.Min(estimate, decodeBudget.Capacity), options.DecodeWait, cancellationToken).ConfigureAwait(false);
            using var encoder = new IpcEncoder(schema);
            await stream.WriteMessageAsync(encoder.SchemaMessage).ConfigureAwait(false);
            foreach (int rowGroup in rowGroups)
            {
                await SendRowGroupAsync(parquet, rowGroup, selection, schema, encoder, stream, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task SendRowGroupAsync(ParquetArrowFile parquet, int rowGroup, ParquetColumns.Selection selection, Schema schema, IpcEncoder encoder, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        string piece = $"row group {rowGroup} of '{parquet.Path}'";
        var sender = new BatchSender(encoder, stream, options, piece);
        long row = 0;
        using Apache.Arrow.Ipc.IArrowArrayStream batches = parquet.Read(rowGroup, selection);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RecordBatch? batch;
            try
            {
                batch = await batches.ReadNextRecordBatchAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (DecodeFailures.IsDamage(e))
            {
                // Only what the decoder throws is the file's problem; a failure sending the batch is the worker's.
                throw DecodeFailures.Describe($"{piece} (after row {row})", e);
            }

            if (batch is null)
            {
                break;
            }

            using (batch)
            {
                await sender.SendAsync(selection.Order(batch, schema), row).ConfigureAwait(false);
                row += batch.Length;
            }
        }
    }

    /// <summary>
    /// Opens the file and resolves the ticket against it, at a batch size that puts about one message of data in each
    /// batch. The footer says how wide a row of the selected columns is; the file is opened again only when that width
    /// asks for another batch size than the default.
    /// </summary>
    private async Task<(ParquetArrowFile, ParquetColumns.Selection, IReadOnlyList<int>, long)> OpenParquetAsync(OpenedFile file, DoraTicket ticket, CancellationToken cancellationToken)
    {
        ParquetArrowFile parquet = await ParquetArrowFile.OpenAsync(engine, file, options.MaxBatchRows, cancellationToken).ConfigureAwait(false);
        try
        {
            ParquetColumns.Selection selection = parquet.Columns.Select(ticket.Columns);
            IReadOnlyList<int> rowGroups = parquet.RowGroups(ticket.RowGroups);
            long batchRows = Math.Clamp(options.BatchDataBytes / BytesPerRow(parquet, rowGroups, selection), 1, options.MaxBatchRows);
            if (batchRows == options.MaxBatchRows)
            {
                return (parquet, selection, rowGroups, batchRows);
            }

            parquet.Dispose();
            parquet = await ParquetArrowFile.OpenAsync(engine, file, batchRows, cancellationToken).ConfigureAwait(false);
            return (parquet, selection, rowGroups, batchRows);
        }
        catch
        {
            parquet.Dispose();
            throw;
        }
    }

    /// <summary>The widest row of the selected columns among the row groups, in uncompressed Parquet bytes (at least 1).</summary>
    private static long BytesPerRow(ParquetArrowFile parquet, IReadOnlyList<int> rowGroups, ParquetColumns.Selection selection)
    {
        long widest = 1;
        foreach (int rowGroup in rowGroups)
        {
            long rows = parquet.RowsIn(rowGroup);
            if (rows > 0)
            {
                widest = Math.Max(widest, parquet.UncompressedBytes(rowGroup, selection.Leaves) / rows);
            }
        }

        return widest;
    }

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
