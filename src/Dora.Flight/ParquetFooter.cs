using System.Buffers.Binary;
using Dora.Worker.Reading;
using Parquet;
using Parquet.Meta;

namespace Dora.Flight;

/// <summary>
/// A Parquet file's metadata, read through the cache from its footer alone: the last 8 bytes give the footer's length,
/// then only the footer (and the 4-byte head magic) is read and parsed. Column chunk byte ranges come from it.
/// </summary>
internal static class ParquetFooter
{
    /// <summary>Largest footer read: 64 MiB (files with tens of thousands of row groups or columns still fit).</summary>
    private const int MaxFooterBytes = 64 << 20;

    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    /// <exception cref="TicketException">The file is not a Parquet file (or its footer is damaged).</exception>
    public static async Task<FileMetaData> ReadAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        string path = file.Path.Value;
        if (file.Length < 12)
        {
            throw new TicketException($"'{path}' is not a Parquet file ({file.Length} bytes)");
        }

        byte[] head = new byte[4];
        byte[] tail = new byte[8];
        await ReadExactlyAsync(engine, file, 0, head, cancellationToken).ConfigureAwait(false);
        await ReadExactlyAsync(engine, file, file.Length - 8, tail, cancellationToken).ConfigureAwait(false);
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
        await ReadExactlyAsync(engine, file, file.Length - footer.Length, footer, cancellationToken).ConfigureAwait(false);
        await using var stream = new SparseFileStream(file.Length, (0, head), (file.Length - footer.Length, footer));
        try
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return reader.Metadata ?? throw new TicketException($"'{path}' has no Parquet metadata");
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

    private static async Task ReadExactlyAsync(StorageEngine engine, OpenedFile file, long offset, byte[] destination, CancellationToken cancellationToken)
    {
        int read = await engine.ReadAsync(file, offset, destination, cancellationToken).ConfigureAwait(false);
        if (read != destination.Length)
        {
            throw new IOException($"'{file.Path}' ended at {offset + read} bytes while reading its footer");
        }
    }

    /// <summary>A read-only stream of a file's length where only some byte ranges are present (the ones a footer parse reads).</summary>
    private sealed class SparseFileStream(long length, params (long Offset, byte[] Bytes)[] segments) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (Position >= length || buffer.IsEmpty)
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

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
