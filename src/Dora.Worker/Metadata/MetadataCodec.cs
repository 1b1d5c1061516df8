using System.Text;
using Dora.Core.UnderStorage;

namespace Dora.Worker.Metadata;

/// <summary>
/// Binary form of metadata entries in RocksDB. Layout (little endian): format byte (1), kind byte, validatedAt int64,
/// storedAt int64, then the status or the listing. Strings are length-prefixed UTF-8; an optional string is preceded
/// by a presence byte.
/// </summary>
internal static class MetadataCodec
{
    private const byte Format = 1;

    public static byte[] Encode(MetadataEntry entry)
    {
        using var stream = new MemoryStream(64);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            writer.Write((byte)entry.Kind);
            writer.Write(entry.ValidatedAtMs);
            writer.Write(entry.StoredAtMs);
            switch (entry.Kind)
            {
                case MetadataEntryKind.Status:
                    WriteStatus(writer, entry.Status!);
                    break;
                case MetadataEntryKind.Listing:
                    writer.Write(entry.Listing!.Entries.Count);
                    foreach (var child in entry.Listing.Entries)
                    {
                        WriteStatus(writer, child);
                    }

                    WriteNullableString(writer, entry.Listing.NextToken);
                    break;
                default:
                    break;
            }
        }

        return stream.ToArray();
    }

    /// <summary>Decodes an entry; null for bytes this version cannot read (they are then treated as a miss).</summary>
    public static MetadataEntry? Decode(byte[] bytes)
    {
        if (bytes.Length < 18 || bytes[0] != Format)
        {
            return null;
        }

        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            reader.ReadByte();
            var kind = (MetadataEntryKind)reader.ReadByte();
            var validatedAt = reader.ReadInt64();
            var storedAt = reader.ReadInt64();
            switch (kind)
            {
                case MetadataEntryKind.Status:
                    return new MetadataEntry(kind, ReadStatus(reader), null, validatedAt, storedAt);
                case MetadataEntryKind.Missing:
                    return new MetadataEntry(kind, null, null, validatedAt, storedAt);
                case MetadataEntryKind.Listing:
                    var count = reader.ReadInt32();
                    if (count < 0 || count > bytes.Length)
                    {
                        return null;
                    }

                    var children = new UfsFileStatus[count];
                    for (var i = 0; i < count; i++)
                    {
                        children[i] = ReadStatus(reader);
                    }

                    return new MetadataEntry(kind, null, new UfsListingPage(children, ReadNullableString(reader)), validatedAt, storedAt);
                default:
                    return null;
            }
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    private static void WriteStatus(BinaryWriter writer, UfsFileStatus status)
    {
        writer.Write(status.Name);
        writer.Write(status.IsDirectory);
        writer.Write(status.Length);
        writer.Write(status.LastModified.UtcTicks);
        WriteNullableString(writer, status.ETag);
    }

    private static UfsFileStatus ReadStatus(BinaryReader reader)
    {
        var name = reader.ReadString();
        var isDirectory = reader.ReadBoolean();
        var length = reader.ReadInt64();
        var modified = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        return new UfsFileStatus(name, isDirectory, length, modified, ReadNullableString(reader));
    }

    private static void WriteNullableString(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null)
        {
            writer.Write(value);
        }
    }

    private static string? ReadNullableString(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
