using Apache.Arrow;
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
    /// <summary>
    /// Decoded values take several times their Parquet size in memory: .NET arrays and strings first, then the Arrow
    /// arrays built from them, then the IPC encoding of each batch. Measured at about 7x for string-heavy row groups.
    /// </summary>
    private const int DecodedBytesPerUncompressedByte = 6;

    private readonly ReadAt _read;
    private readonly long _length;

    private ParquetFooter(ReadAt read, long length, ParquetLayout layout)
    {
        _read = read;
        _length = length;
        Layout = layout;
    }

    public ParquetLayout Layout { get; }

    public FileMetaData Metadata => Layout.Metadata;

    public ParquetSchema Schema => Layout.Schema;

    /// <summary>
    /// Decodes <paramref name="fields"/> of <paramref name="rowGroup"/> into batches of at most
    /// <paramref name="maxBatchBytes"/>, from just their chunks, whose pages are checked first.
    /// </summary>
    /// <exception cref="FileLayoutException">The chunks are damaged or cannot be decoded; the message names the row group.</exception>
    public async Task<List<RecordBatch>> DecodeAsync(int rowGroup, DataField[] fields, Apache.Arrow.Schema schema, int maxBatchBytes, CancellationToken cancellationToken)
    {
        try
        {
            (ParquetReader reader, Stream source) = await OpenRowGroupAsync(rowGroup, fields, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            await using (reader.ConfigureAwait(false))
            {
                return await ParquetBatches.ReadRowGroupAsync(reader, rowGroup, fields, schema, maxBatchBytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (DecodeFailures.IsDamage(e))
        {
            throw DecodeFailures.Describe($"row group {rowGroup} of '{Layout.Path}'", e);
        }
    }

    /// <summary>A reader over the head, the footer and the chunks of <paramref name="fields"/> in <paramref name="rowGroup"/>.</summary>
    private async Task<(ParquetReader Reader, Stream Stream)> OpenRowGroupAsync(int rowGroup, DataField[] fields, CancellationToken cancellationToken)
    {
        var segments = new List<(long, byte[])> { (0, Layout.Head), (Layout.FooterOffset, Layout.Footer) };
        foreach (DataField field in fields)
        {
            string column = field.Path.ToString();
            (long start, long length) = Layout.ChunkRange(rowGroup, column);
            byte[] bytes = new byte[length];
            await _read(start, bytes, cancellationToken).ConfigureAwait(false);
            ParquetPageCheck.Chunk(bytes, start, Layout.Chunk(rowGroup, column).TotalUncompressedSize, Layout.Path, column);
            segments.Add((start, bytes));
        }

        var stream = new SparseFileStream(_length, [.. segments]);
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

    /// <summary>
    /// The memory decoding <paramref name="fields"/> of <paramref name="rowGroup"/> takes, by the footer's sizes: the
    /// chunks' bytes fetched, plus a multiple of their uncompressed size for the values decoded from them.
    /// </summary>
    public long DecodeEstimate(int rowGroup, DataField[] fields)
    {
        long total = 0;
        foreach (DataField field in fields)
        {
            var chunk = Layout.Chunk(rowGroup, field.Path.ToString());
            long compressed = Math.Max(0, chunk.TotalCompressedSize);
            long uncompressed = Math.Max(compressed, chunk.TotalUncompressedSize);
            total = SaturatingAdd(total, SaturatingAdd(compressed, uncompressed > long.MaxValue / DecodedBytesPerUncompressedByte ? long.MaxValue : uncompressed * DecodedBytesPerUncompressedByte));
        }

        return total;

        static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
    }

    /// <exception cref="FileLayoutException">The file is not a Parquet file (or its footer is damaged).</exception>
    public static Task<ParquetFooter> ReadAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken) =>
        ReadAsync(EngineReads.ReaderOf(engine, file), file.Length, file.Path.Value, cancellationToken);

    /// <exception cref="FileLayoutException">The file is not a Parquet file (or its footer is damaged).</exception>
    public static async Task<ParquetFooter> ReadAsync(ReadAt read, long length, string path, CancellationToken cancellationToken) =>
        new(read, length, await ParquetLayout.ReadAsync(read, length, path, cancellationToken).ConfigureAwait(false));
}
