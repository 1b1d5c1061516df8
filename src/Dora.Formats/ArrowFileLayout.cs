using System.Buffers.Binary;

namespace Dora.Formats;

/// <summary>
/// Where things are in an Arrow IPC file (<c>ARROW1</c> magic), from its footer: each dictionary and record batch
/// message is a block (offset, metadata length, body length); the schema is the footer's (a copy may start the file).
/// </summary>
public sealed class ArrowFileLayout
{
    /// <summary>Where one IPC message lies in the file: its prefixed metadata, then its body.</summary>
    public readonly record struct Block(long Offset, int MetadataLength, long BodyLength)
    {
        public long Length => MetadataLength + BodyLength;
    }

    /// <summary>Largest footer read: 64 MiB.</summary>
    private const int MaxMetadataBytes = 64 << 20;

    /// <summary>Where the first message may start: right after the 6-byte magic and its 2 bytes of padding.</summary>
    public const int SchemaOffset = 8;

    private ArrowFileLayout(string path, long footerOffset, Block[] dictionaries, Block[] batches, byte[] schema)
    {
        Path = path;
        FooterOffset = footerOffset;
        Dictionaries = dictionaries;
        Batches = batches;
        EncapsulatedSchema = schema;
    }

    public string Path { get; }

    /// <summary>Where the footer starts; it runs to the end of the file (footer, its length, the closing magic).</summary>
    public long FooterOffset { get; }

    public IReadOnlyList<Block> Dictionaries { get; }

    public IReadOnlyList<Block> Batches { get; }

    /// <summary>The schema message built from the footer's schema (prefix and flatbuffer): see <see cref="ArrowSchemaMessage"/>.</summary>
    public byte[] EncapsulatedSchema { get; }

    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    /// <summary>True when the file starts and ends with the Arrow IPC file magic.</summary>
    public static Task<bool> IsArrowFileAsync(ReadAt read, long length, CancellationToken cancellationToken) =>
        FileMagic.MatchesAsync(read, length, 18, [.. Magic], [[.. Magic]], cancellationToken);

    /// <summary>Reads the footer (flatbuffer <c>Footer</c>: field 2 the dictionary blocks, field 3 the record batch blocks), whose schema is the file's.</summary>
    /// <exception cref="FileLayoutException">The footer or its schema is damaged.</exception>
    public static async Task<ArrowFileLayout> ReadAsync(ReadAt read, long length, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        byte[] trailer = new byte[10];
        await read(length - 10, trailer, cancellationToken).ConfigureAwait(false);
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(trailer);
        if (footerLength <= 0 || footerLength > MaxMetadataBytes || footerLength > length - 18)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow footer (length {footerLength})");
        }

        byte[] footer = new byte[footerLength];
        long footerOffset = length - 10 - footerLength;
        await read(footerOffset, footer, cancellationToken).ConfigureAwait(false);
        Block[] dictionaries;
        Block[] batches;
        try
        {
            dictionaries = ReadBlocks(footer, 2, length, path);
            batches = ReadBlocks(footer, 3, length, path);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow footer");
        }

        byte[] schema;
        try
        {
            schema = ArrowSchemaMessage.FromFooter(footer);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow footer: its schema cannot be read");
        }

        return new ArrowFileLayout(path, footerOffset, dictionaries, batches, schema);
    }

    /// <summary>Batch <paramref name="index"/>'s block, or an error naming how many batches there are.</summary>
    public Block Batch(int index) =>
        index >= 0 && index < Batches.Count
            ? Batches[index]
            : throw new FileLayoutException($"'{Path}' has {Batches.Count} record batches; batch {index} does not exist");

    private static Block[] ReadBlocks(ReadOnlySpan<byte> footer, int field, long fileLength, string path)
    {
        const int blockSize = 24;
        (int start, int count) = FlatTable.Root(footer).GetVector(field);

        // The count comes from the file: it must describe blocks that lie inside the footer before anything is allocated.
        if (count < 0 || start < 0 || start > footer.Length || count > (footer.Length - start) / blockSize)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow footer: it claims {count} blocks");
        }

        var blocks = new Block[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = footer.Slice(start + (i * blockSize), blockSize);
            var block = new Block(BinaryPrimitives.ReadInt64LittleEndian(entry), BinaryPrimitives.ReadInt32LittleEndian(entry[8..]), BinaryPrimitives.ReadInt64LittleEndian(entry[16..]));

            // Compared without adding: crafted lengths must not overflow into a block that looks inside the file.
            if (block.Offset < SchemaOffset || block.MetadataLength <= 0 || block.BodyLength < 0 || block.Offset > fileLength
                || block.BodyLength > fileLength || block.Length > fileLength - block.Offset)
            {
                throw new FileLayoutException($"'{path}' has a damaged Arrow footer: block {i} lies outside the file");
            }

            blocks[i] = block;
        }

        return blocks;
    }
}
