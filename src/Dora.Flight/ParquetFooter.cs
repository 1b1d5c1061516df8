using System.Buffers.Binary;
using Dora.Worker.Reading;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace Dora.Flight;

/// <summary>
/// A Parquet file seen through the cache: the footer alone is read (the last 8 bytes give its length, then the footer
/// and the 4-byte head magic) and parsed; column chunk byte ranges come from it, and a row group's columns are decoded
/// from just their chunks, fetched through the cache into memory.
/// </summary>
internal sealed class ParquetFooter
{
    /// <summary>Most column chunk bytes fetched to decode one row group: 256 MiB.</summary>
    private const long MaxRowGroupBytes = 256L << 20;

    private readonly StorageEngine _engine;
    private readonly OpenedFile _file;
    private readonly byte[] _head;
    private readonly byte[] _footer;

    private ParquetFooter(StorageEngine engine, OpenedFile file, byte[] head, byte[] footer, FileMetaData metadata, ParquetSchema schema)
    {
        _engine = engine;
        _file = file;
        _head = head;
        _footer = footer;
        Metadata = metadata;
        Schema = schema;
    }

    public FileMetaData Metadata { get; }

    public ParquetSchema Schema { get; }

    private string Path => _file.Path.Value;

    /// <summary>A reader over the head, the footer and the chunks of <paramref name="fields"/> in <paramref name="rowGroup"/>.</summary>
    public async Task<(ParquetReader Reader, Stream Stream)> OpenRowGroupAsync(int rowGroup, DataField[] fields, CancellationToken cancellationToken)
    {
        var segments = new List<(long, byte[])> { (0, _head), (_file.Length - _footer.Length, _footer) };
        long total = 0;
        foreach (DataField field in fields)
        {
            (long start, long length) = ChunkRange(Metadata, Path, rowGroup, field.Path.ToString());
            total += length;
            if (total > MaxRowGroupBytes || start < 0 || start + length > _file.Length)
            {
                throw new TicketException(total > MaxRowGroupBytes
                    ? $"row group {rowGroup} of '{Path}' needs more than {MaxRowGroupBytes >> 20} MiB of column chunks to decode; read it with chunk tickets or fewer columns"
                    : $"'{Path}' has a damaged footer: column '{field.Name}' of row group {rowGroup} lies outside the file");
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

    /// <summary>Largest footer read: 64 MiB (files with tens of thousands of row groups or columns still fit).</summary>
    private const int MaxFooterBytes = 64 << 20;

    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    /// <exception cref="TicketException">The file is not a Parquet file (or its footer is damaged).</exception>
    public static async Task<ParquetFooter> ReadAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        string path = file.Path.Value;
        if (file.Length < 12)
        {
            throw new TicketException($"'{path}' is not a Parquet file ({file.Length} bytes)");
        }

        byte[] head = new byte[4];
        byte[] tail = new byte[8];
        await engine.ReadExactlyAsync(file, 0, head, cancellationToken).ConfigureAwait(false);
        await engine.ReadExactlyAsync(file, file.Length - 8, tail, cancellationToken).ConfigureAwait(false);
        if (!head.AsSpan().SequenceEqual(Magic) || !tail.AsSpan(4).SequenceEqual(Magic))
        {
            throw new TicketException($"'{path}' is not a Parquet file (no PAR1 magic)");
        }

        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > MaxFooterBytes || footerLength > file.Length - 12)
        {
            throw new TicketException($"'{path}' has a damaged Parquet footer (length {footerLength})");
        }

        byte[] footer = new byte[footerLength + 8];
        await engine.ReadExactlyAsync(file, file.Length - footer.Length, footer, cancellationToken).ConfigureAwait(false);
        await using var stream = new SparseFileStream(file.Length, (0, head), (file.Length - footer.Length, footer));
        try
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            FileMetaData metadata = reader.Metadata ?? throw new TicketException($"'{path}' has no Parquet metadata");
            return new ParquetFooter(engine, file, head, footer, metadata, reader.Schema);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException)
        {
            throw new TicketException($"'{path}' has a Parquet footer that cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The byte range of one column chunk: from its dictionary page when it has one, else its first data page, for
    /// its total compressed size.
    /// </summary>
    public static (long Offset, long Length) ChunkRange(FileMetaData metadata, string path, int rowGroup, string column)
    {
        if (rowGroup < 0 || rowGroup >= metadata.RowGroups.Count)
        {
            throw new TicketException($"'{path}' has {metadata.RowGroups.Count} row groups; rowGroup {rowGroup} does not exist");
        }

        var names = new List<string>();
        foreach (ColumnChunk chunk in metadata.RowGroups[rowGroup].Columns)
        {
            if (chunk.MetaData is not { } meta)
            {
                continue;
            }

            string name = string.Join('.', meta.PathInSchema);
            if (name == column)
            {
                long start = meta.DictionaryPageOffset is > 0 and var dictionary && dictionary < meta.DataPageOffset ? dictionary : meta.DataPageOffset;
                return (start, meta.TotalCompressedSize);
            }

            names.Add(name);
        }

        throw new TicketException($"'{path}' has no column '{column}'; its columns are: {string.Join(", ", names)}");
    }

    /// <summary>A read-only stream of a file's length where only some byte ranges are present (the ones a footer parse reads).</summary>
    private sealed class SparseFileStream(long length, params (long Offset, byte[] Bytes)[] segments) : ReadOnlyFileStream(length)
    {
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (Position >= Length || buffer.IsEmpty)
            {
                return 0;
            }

            foreach ((long start, byte[] bytes) in segments)
            {
                if (Position >= start && Position < start + bytes.Length)
                {
                    int count = (int)Math.Min(buffer.Length, start + bytes.Length - Position);
                    bytes.AsSpan((int)(Position - start), count).CopyTo(buffer);
                    Position += count;
                    return count;
                }
            }

            throw new IOException($"the footer parse read at {Position}, outside the footer");
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));
    }
}
