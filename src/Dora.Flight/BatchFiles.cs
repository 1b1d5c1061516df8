using Dora.Formats;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>What <c>batches</c> can decode: Arrow IPC files and Parquet files, told apart by their magic bytes.</summary>
internal static class BatchFiles
{
    public enum Kind
    {
        /// <summary>Neither: only <c>range</c> tickets read it.</summary>
        Other,
        ArrowIpc,
        Parquet,
    }

    public static async Task<Kind> KindOfAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken) =>
        await ArrowIpcFile.IsArrowFileAsync(engine, file, cancellationToken).ConfigureAwait(false) ? Kind.ArrowIpc
        : await ParquetLayout.IsParquetFileAsync(EngineReads.ReaderOf(engine, file), file.Length, cancellationToken).ConfigureAwait(false) ? Kind.Parquet
        : Kind.Other;

    /// <summary>The refusal of a batches request for a file that is neither.</summary>
    public static TicketException NotDecodable(OpenedFile file) =>
        new($"'{file.Path}' is neither a Parquet nor an Arrow IPC file: batches cannot decode it; read it with range tickets");
}
