using Dora.Formats;
using Dora.Worker.Reading;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace Dora.Flight;

/// <summary>
/// A Parquet file seen through the cache: its layout comes from the footer alone, and a row group's columns are
/// decoded from just their chunks, fetched through the cache into memory.
/// </summary>
internal sealed class ParquetFooter
{
    /// <summary>Most column chunk bytes fetched to decode one row group: 256 MiB.</summary>
    private const long MaxRowGroupBytes = 256L << 20;

    private readonly StorageEngine _engine;
    private readonly OpenedFile _file;

    private ParquetFooter(StorageEngine engine, OpenedFile file, ParquetLayout layout)
    {
        _engine = engine;
        _file = file;
        Layout = layout;
    }

    public ParquetLayout Layout { get; }

    public FileMetaData Metadata => Layout.Metadata;

    public ParquetSchema Schema => Layout.Schema;

    /// <summary>A reader over the head, the footer and the chunks of <paramref name="fields"/> in <paramref name="rowGroup"/>.</summary>
    public async Task<(ParquetReader Reader, Stream Stream)> OpenRowGroupAsync(int rowGroup, DataField[] fields, CancellationToken cancellationToken)
    {
        var segments = new List<(long, byte[])> { (0, Layout.Head), (Layout.FooterOffset, Layout.Footer) };
        long total = 0;
        foreach (DataField field in fields)
        {
            (long start, long length) = Layout.ChunkRange(rowGroup, field.Path.ToString());
            total += length;
            if (total > MaxRowGroupBytes)
            {
                throw new TicketException($"row group {rowGroup} of '{Layout.Path}' needs more than {MaxRowGroupBytes >> 20} MiB of column chunks to decode; read it with chunk tickets or fewer columns");
            }

            byte[] bytes = new byte[length];
            await _engine.ReadExactlyAsync(_file, start, bytes, cancellationToken).ConfigureAwait(false);
            segments.Add((start, bytes));
        }

        var stream = new SparseFileStream(_file.Length, [.. segments]);
        try
        {
            return (await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false), stream);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <exception cref="FileLayoutException">The file is not a Parquet file (or its footer is damaged).</exception>
    public static async Task<ParquetFooter> ReadAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken) =>
        new(engine, file, await ParquetLayout.ReadAsync(EngineReads.ReaderOf(engine, file), file.Length, file.Path.Value, cancellationToken).ConfigureAwait(false));
}
