using System.Buffers.Binary;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace Dora.Formats;

/// <summary>
/// Where things are in a Parquet file, from its footer alone: the last 8 bytes give the footer's length, then the footer
/// and the 4-byte head magic are fetched and parsed. Column chunk byte ranges come from the footer's metadata.
/// </summary>
public sealed class ParquetLayout
{
    /// <summary>Largest footer read: 64 MiB (files with tens of thousands of row groups or columns still fit).</summary>
    private const int MaxFooterBytes = 64 << 20;

    private ParquetLayout(string path, long length, byte[] head, byte[] footer, FileMetaData metadata, ParquetSchema schema)
    {
        Path = path;
        Length = length;
        Head = head;
        Footer = footer;
        Metadata = metadata;
        Schema = schema;
    }

    public string Path { get; }

    public long Length { get; }

    /// <summary>The 4-byte head magic.</summary>
    public byte[] Head { get; }

    /// <summary>The footer with its trailing length and magic: the file's last <c>Footer.Length</c> bytes.</summary>
    public byte[] Footer { get; }

    public long FooterOffset => Length - Footer.Length;

    public FileMetaData Metadata { get; }

    public ParquetSchema Schema { get; }

    private static ReadOnlySpan<byte> Magic => "PAR1"u8;

    /// <summary>
    /// True when the file starts with the Parquet magic and ends with the plain (<c>PAR1</c>) or the encrypted-footer
    /// (<c>PARE</c>) magic: a file that claims to be Parquet, whether or not the rest of it can be read.
    /// </summary>
    public static Task<bool> IsParquetFileAsync(ReadAt read, long length, CancellationToken cancellationToken) =>
        FileMagic.MatchesAsync(read, length, 12, [.. Magic], [[.. Magic], [.. "PARE"u8]], cancellationToken);

    /// <exception cref="FileLayoutException">The file is not a Parquet file, or its footer is damaged.</exception>
    public static async Task<ParquetLayout> ReadAsync(ReadAt read, long length, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (length < 12)
        {
            throw new FileLayoutException($"'{path}' is not a Parquet file ({length} bytes)");
        }

        byte[] head = new byte[4];
        byte[] tail = new byte[8];
        await read(0, head, cancellationToken).ConfigureAwait(false);
        await read(length - 8, tail, cancellationToken).ConfigureAwait(false);
        if (!head.AsSpan().SequenceEqual(Magic) || !tail.AsSpan(4).SequenceEqual(Magic))
        {
            throw new FileLayoutException($"'{path}' is not a Parquet file (no PAR1 magic)");
        }

        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
        if (footerLength <= 0 || footerLength > MaxFooterBytes || footerLength > length - 12)
        {
            throw new FileLayoutException($"'{path}' has a damaged Parquet footer (length {footerLength})");
        }

        byte[] footer = new byte[footerLength + 8];
        await read(length - footer.Length, footer, cancellationToken).ConfigureAwait(false);
        try
        {
            // Parquet.Net trusts the counts in the footer; a crafted one would have it loop far past the footer's end.
            ThriftCompactCheck.Struct(footer.AsSpan(0, footerLength), ParquetThrift.FileMetaData);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new FileLayoutException($"'{path}' has a damaged Parquet footer: {e.Message}");
        }

        await using var stream = new SparseFileStream(length, (0, head), (length - footer.Length, footer));
        try
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            FileMetaData metadata = reader.Metadata ?? throw new FileLayoutException($"'{path}' has no Parquet metadata");
            return new ParquetLayout(path, length, head, footer, metadata, reader.Schema);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException or FileLayoutException))
        {
            // Parquet.Net meets bytes nobody checked: whatever it throws on them is this file's damage, not a fault of the
            // caller (reads through the cache throw Dora's own errors before the parser sees a byte).
            throw new FileLayoutException($"'{path}' has a Parquet footer that cannot be read ({e.GetType().Name}: {e.Message})");
        }
    }

    /// <summary>
    /// The byte range of one column chunk (columns named by their dotted path): from its dictionary page when it has
    /// one, else its first data page, for its total compressed size.
    /// </summary>
    public (long Offset, long Length) ChunkRange(int rowGroup, string column) => Range(Chunk(rowGroup, column), rowGroup, column);

    /// <summary>The footer's metadata of one column chunk (columns named by their dotted path).</summary>
    public ColumnMetaData Chunk(int rowGroup, string column)
    {
        if (rowGroup < 0 || rowGroup >= Metadata.RowGroups.Count)
        {
            throw new FileLayoutException($"'{Path}' has {Metadata.RowGroups.Count} row groups; rowGroup {rowGroup} does not exist");
        }

        foreach (ColumnChunk chunk in Metadata.RowGroups[rowGroup].Columns)
        {
            if (chunk.MetaData is { } meta && string.Join('.', meta.PathInSchema) == column)
            {
                return meta;
            }
        }

        throw new FileLayoutException($"'{Path}' has no column '{column}'; its columns are: {string.Join(", ", ColumnNames())}");
    }

    /// <summary>
    /// The byte ranges of the chunks of <paramref name="columns"/> (all when null) in every row group, in file order.
    /// A column named that the file does not have is an error listing the columns it has.
    /// </summary>
    public List<(long Offset, long Length)> ChunkRanges(IReadOnlyCollection<string>? columns)
    {
        IReadOnlyList<string> names = ColumnNames();
        foreach (string column in columns ?? [])
        {
            if (!names.Contains(column))
            {
                throw new FileLayoutException($"'{Path}' has no column '{column}'; its columns are: {string.Join(", ", names)}");
            }
        }

        var ranges = new List<(long, long)>();
        for (int rowGroup = 0; rowGroup < Metadata.RowGroups.Count; rowGroup++)
        {
            foreach (ColumnChunk chunk in Metadata.RowGroups[rowGroup].Columns)
            {
                if (chunk.MetaData is { } meta && (columns is null || columns.Contains(string.Join('.', meta.PathInSchema))))
                {
                    ranges.Add(Range(meta, rowGroup, string.Join('.', meta.PathInSchema)));
                }
            }
        }

        ranges.Sort();
        return ranges;
    }

    /// <summary>The dotted paths of the file's leaf columns, in schema order.</summary>
    public IReadOnlyList<string> ColumnNames() =>
        Metadata.RowGroups.Count == 0
            ? [.. Schema.GetDataFields().Select(f => f.Path.ToString())]
            : [.. Metadata.RowGroups[0].Columns.Where(c => c.MetaData is not null).Select(c => string.Join('.', c.MetaData!.PathInSchema))];

    private (long Offset, long Length) Range(ColumnMetaData meta, int rowGroup, string column)
    {
        long start = meta.DictionaryPageOffset is > 0 and var dictionary && dictionary < meta.DataPageOffset ? dictionary : meta.DataPageOffset;
        long size = meta.TotalCompressedSize;

        // Compared without adding: a crafted offset and size must not overflow into a range that looks valid.
        return start < 0 || size < 0 || start > Length || size > Length - start
            ? throw new FileLayoutException($"'{Path}' has a damaged footer: column '{column}' of row group {rowGroup} lies outside the file")
            : (start, size);
    }
}
