using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Dora.Worker.Pages;

/// <summary>
/// On-disk layout of one page file (format 2): a header with a checksum per 4 KiB block of data, padded to a multiple
/// of 4 KiB, then the page's data, so every data block is one file-system block and any byte range can be checked by
/// reading only the blocks it touches.
/// <code>
/// 0   magic "DORAPG" 0x02 0x00        (8 bytes)
/// 8   data length                     (int32, little endian)
/// 12  log2 of the block size: 12      (1 byte), then 3 bytes zero
/// 16  page index                      (int64, little endian)
/// 24  zero                            (8 bytes)
/// 32  XxHash3-64 of each 4 KiB block of data, the last one possibly shorter (uint64 each, little endian)
/// ... zero up to <see cref="DataOffset"/>: 32 + 8 * (page size / 4 KiB), rounded up to 4 KiB (4 KiB for 1 MiB pages)
/// D   data
/// </code>
/// File names are <c>{fileKey:x32}_{pageIndex}_{generation:x}.page</c> in one of 256 buckets named by the first two
/// hex digits of the file key; temporary files end in <c>.tmp</c> and are deleted at start-up.
/// </summary>
internal static class PageFileFormat
{
    /// <summary>The version kept in the store's manifest; a store of another version is emptied at start-up.</summary>
    public const int Version = 2;

    /// <summary>Bytes covered by one checksum.</summary>
    public const int BlockSize = 4096;

    public const int BlockShift = 12;

    /// <summary>Where the checksum table starts.</summary>
    public const int TableOffset = 32;

    public const string PageExtension = ".page";

    public const string TemporaryExtension = ".tmp";

    private static ReadOnlySpan<byte> Magic => "DORAPG\u0002\0"u8;

    /// <summary>Where the data starts in the page files of a store with <paramref name="pageSize"/>-byte pages.</summary>
    public static int DataOffset(int pageSize) => (TableOffset + (BlockCount(pageSize) * sizeof(ulong)) + BlockSize - 1) & ~(BlockSize - 1);

    /// <summary>Checksummed blocks in <paramref name="dataLength"/> bytes of data.</summary>
    public static int BlockCount(int dataLength) => (dataLength + BlockSize - 1) >> BlockShift;

    /// <summary>Fills <paramref name="header"/> (<see cref="DataOffset"/> bytes) with the header and checksums of <paramref name="data"/>.</summary>
    public static void WriteHeader(Span<byte> header, long pageIndex, ReadOnlySpan<byte> data)
    {
        header.Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], data.Length);
        header[12] = BlockShift;
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], pageIndex);
        var table = header[TableOffset..];
        for (int block = 0, start = 0; start < data.Length; block++, start += BlockSize)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(table[(block * sizeof(ulong))..], Checksum(data[start..Math.Min(start + BlockSize, data.Length)]));
        }
    }

    /// <summary>True when the fixed part of a header describes this page (magic, length, block size, index).</summary>
    public static bool HeaderDescribes(ReadOnlySpan<byte> header, long pageIndex, int dataLength) =>
        header.Length >= TableOffset
        && header[..8].SequenceEqual(Magic)
        && BinaryPrimitives.ReadInt32LittleEndian(header[8..]) == dataLength
        && header[12] == BlockShift
        && BinaryPrimitives.ReadInt64LittleEndian(header[16..]) == pageIndex;

    /// <summary>
    /// True when every block of <paramref name="blocks"/> (whole blocks from a block boundary; the last may be short)
    /// matches its checksum in <paramref name="checksums"/> (the table entries of those blocks).
    /// </summary>
    public static bool BlocksMatch(ReadOnlySpan<byte> checksums, ReadOnlySpan<byte> blocks)
    {
        for (int block = 0, start = 0; start < blocks.Length; block++, start += BlockSize)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(checksums[(block * sizeof(ulong))..]) != Checksum(blocks[start..Math.Min(start + BlockSize, blocks.Length)]))
            {
                return false;
            }
        }

        return true;
    }

    private static ulong Checksum(ReadOnlySpan<byte> block) => XxHash3.HashToUInt64(block);

    public static string FileName(PageKey key, long generation) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.File}_{key.Index}_{generation:x}{PageExtension}");

    public static string BucketName(FileKey file) => file.ToString()[..2];

    /// <summary>Parses a page file name; false for anything Dora did not write.</summary>
    public static bool TryParseFileName(ReadOnlySpan<char> name, out PageKey key, out long generation)
    {
        key = default;
        generation = 0;
        if (!name.EndsWith(PageExtension, StringComparison.Ordinal))
        {
            return false;
        }

        var stem = name[..^PageExtension.Length];
        var first = stem.IndexOf('_');
        var last = stem.LastIndexOf('_');
        if (first != 32 || last <= first + 1)
        {
            return false;
        }

        if (!FileKey.TryParse(stem[..first], out var file)
            || !long.TryParse(stem[(first + 1)..last], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            || !long.TryParse(stem[(last + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out generation))
        {
            return false;
        }

        key = new PageKey(file, index);
        return true;
    }
}
