using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace Dora.Worker.Pages;

/// <summary>
/// On-disk layout of one page file: a 32-byte header, then the page's data.
/// <code>
/// 0  magic "DORAPG" 0x01 0x00  (8 bytes)
/// 8  data length               (int32, little endian)
/// 12 reserved, zero            (4 bytes)
/// 16 XxHash3-64 of the data    (uint64, little endian)
/// 24 page index                (int64, little endian)
/// 32 data
/// </code>
/// File names are <c>{fileKey:x32}_{pageIndex}_{generation:x}.page</c> in one of 256 buckets named by the first two
/// hex digits of the file key; temporary files end in <c>.tmp</c> and are deleted at start-up.
/// </summary>
internal static class PageFileFormat
{
    public const int HeaderSize = 32;

    public const string PageExtension = ".page";

    public const string TemporaryExtension = ".tmp";

    private static ReadOnlySpan<byte> Magic => "DORAPG\u0001\0"u8;

    public static ulong Checksum(ReadOnlySpan<byte> data) => XxHash3.HashToUInt64(data);

    public static void WriteHeader(Span<byte> header, int dataLength, ulong checksum, long pageIndex)
    {
        header[..HeaderSize].Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], dataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], checksum);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], pageIndex);
    }

    /// <summary>Checks a whole page file image (header and data); false when anything does not match.</summary>
    public static bool IsIntact(ReadOnlySpan<byte> image, long expectedIndex, int expectedLength)
    {
        if (image.Length != HeaderSize + expectedLength || !image[..8].SequenceEqual(Magic))
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(image[8..]);
        var checksum = BinaryPrimitives.ReadUInt64LittleEndian(image[16..]);
        var index = BinaryPrimitives.ReadInt64LittleEndian(image[24..]);
        return length == expectedLength && index == expectedIndex && checksum == Checksum(image[HeaderSize..]);
    }

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
