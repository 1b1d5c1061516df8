using Apache.Arrow;
using Dora.Core.Resources;
using Dora.Flight.Ipc;
using Dora.Flight.Protocol;
using Dora.Worker.Reading;
using Grpc.Core;

namespace Dora.Flight.Columnar;

/// <summary>
/// A <c>batches</c> DoGet of a Parquet file: its row groups decoded by Arrow's Parquet reader a batch at a time. The
/// batch's row count is sized from the footer so a batch holds about one message of data, and the call leases the
/// memory for one batch in flight (its column buffers, the decoded and the encoded batch) for as long as it runs. A
/// row group of any size streams; nothing holds it whole. At most <see cref="FlightOptions.MaxConcurrentDecodes"/>
/// calls decode at once, worker-wide.
/// </summary>
internal sealed class ParquetStreams(StorageEngine engine, FlightOptions options, ByteBudget decodeBudget, SemaphoreSlim decodeSlots)
{
    /// <summary>
    /// Copies of a batch's data that exist at once while it is sent: Arrow's decoded arrays, the IPC encoding, and the
    /// halves a batch is split into when its message would pass the limit (values decoded from dictionary pages can
    /// also outgrow their Parquet size).
    /// </summary>
    private const int DecodedCopiesPerBatch = 4;

    /// <summary>What a ticket asks of an opened file, and the batch size it is opened at.</summary>
    private sealed record Plan(ParquetArrowFile File, ParquetColumns.Selection Selection, IReadOnlyList<int> RowGroups, long BatchRows, long BytesPerRow);

    public async Task SendAsync(OpenedFile file, DoraTicket ticket, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        if (!await decodeSlots.WaitAsync(options.DecodeWait, cancellationToken).ConfigureAwait(false))
        {
            throw new BudgetExceededException($"{options.MaxConcurrentDecodes} Parquet decodes were running for all of {options.DecodeWait.TotalSeconds:0} s; try again", isTransient: true);
        }

        try
        {
            await DecodeAsync(file, ticket, stream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            decodeSlots.Release();
        }
    }

    private async Task DecodeAsync(OpenedFile file, DoraTicket ticket, IAsyncStreamWriter<FlightData> stream, CancellationToken cancellationToken)
    {
        Plan plan = await PlanAsync(file, ticket, cancellationToken).ConfigureAwait(false);
        using ParquetArrowFile parquet = plan.File;
        Schema schema = parquet.SchemaOf(plan.Selection);
        long columns = plan.Selection.Leaves?.Length ?? parquet.Columns.LeafCount;
        long estimate = (columns * 2 * ParquetArrowFile.ColumnBufferBytes) + (plan.BatchRows * plan.BytesPerRow * DecodedCopiesPerBatch);
        using ByteBudget.Lease memory = await decodeBudget.AcquireAsync(Math.Min(estimate, decodeBudget.Capacity), options.DecodeWait, cancellationToken).ConfigureAwait(false);
        using var encoder = new IpcEncoder(schema);
        await stream.WriteMessageAsync(encoder.SchemaMessage).ConfigureAwait(false);
        foreach (int rowGroup in plan.RowGroups)
        {
            await SendRowGroupAsync(parquet, rowGroup, plan.Selection, schema, encoder, stream, cancellationToken).ConfigureAwait(false);
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
                // Only what the decoder throws is the file's problem (a failure sending the batch is the worker's), and
                // only when the bytes it read were the file's (a failed read is reported as itself).
                parquet.ThrowIfReadFailed();
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
    /// asks for another batch size than the default (Arrow's reader takes the batch size when it opens).
    /// </summary>
    private async Task<Plan> PlanAsync(OpenedFile file, DoraTicket ticket, CancellationToken cancellationToken)
    {
        ParquetArrowFile parquet = await ParquetArrowFile.OpenAsync(engine, file, options.MaxBatchRows, cancellationToken).ConfigureAwait(false);
        try
        {
            ParquetColumns.Selection selection = parquet.Columns.Select(ticket.Columns);
            IReadOnlyList<int> rowGroups = parquet.RowGroups(ticket.RowGroups);
            long bytesPerRow = BytesPerRow(parquet, rowGroups, selection);
            long batchRows = Math.Clamp(options.BatchDataBytes / bytesPerRow, 1, options.MaxBatchRows);
            if (batchRows != options.MaxBatchRows)
            {
                parquet.Dispose();
                parquet = await ParquetArrowFile.OpenAsync(engine, file, batchRows, cancellationToken).ConfigureAwait(false);
            }

            return new Plan(parquet, selection, rowGroups, batchRows, bytesPerRow);
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
}
