using Dora.Core.Paths;
using Dora.Formats;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>The byte range a <c>range</c> or <c>chunk</c> ticket stands for.</summary>
internal static class TicketRanges
{
    /// <summary>
    /// Opens the ticket's file and finds its byte range: a <c>chunk</c> from the Parquet or Arrow footer, a
    /// <c>range</c> as given, clamped at the end of the file (an offset equal to the length is an empty range, past it
    /// an error).
    /// </summary>
    public static async Task<(OpenedFile File, long Offset, long End)> OpenAsync(StorageEngine engine, DoraTicket ticket, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(ticket.Path);
        OpenedFile file = await engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        if (ticket.Kind != "chunk")
        {
            return (file, ticket.Offset, file.RangeEnd(ticket.Offset, ticket.Length));
        }

        if (await ArrowIpcFile.IsArrowFileAsync(engine, file, cancellationToken).ConfigureAwait(false))
        {
            // For an Arrow IPC file a chunk is a record batch block: "rowGroup" is the batch, "column" is not used.
            ArrowIpcFile ipc = await ArrowIpcFile.OpenAsync(engine, file, cancellationToken).ConfigureAwait(false);
            ArrowFileLayout.Block block = ipc.Layout.Batch(ticket.RowGroup!.Value);
            return (file, block.Offset, block.Offset + block.Length);
        }

        if (string.IsNullOrEmpty(ticket.Column))
        {
            throw new TicketException("a chunk ticket of a Parquet file needs \"column\"");
        }

        ParquetLayout parquet = await ParquetLayout.ReadAsync(EngineReads.ReaderOf(engine, file), file.Length, file.Path.Value, cancellationToken).ConfigureAwait(false);
        (long start, long size) = parquet.ChunkRange(ticket.RowGroup!.Value, ticket.Column);
        return (file, start, start + size);
    }
}
