using System.Buffers.Binary;

namespace Dora.Formats;

/// <summary>
/// The schema message of an Arrow IPC file, built from its footer. The footer's <c>Schema</c> is the one every writer
/// must write; the copy at the start of the file is optional (apache-arrow JS leaves it out and starts with the
/// dictionaries), so readers that serve the file as a stream take the footer's. The footer's flatbuffer is copied
/// whole behind a new <c>Message</c> table whose header points at the schema inside the copy: flatbuffer offsets are
/// relative, so the schema (and its dictionary ids) stays exactly as written, without decoding and re-encoding it.
/// </summary>
internal static class ArrowSchemaMessage
{
    /// <summary><c>MessageHeader.Schema</c>.</summary>
    private const byte SchemaHeader = 1;

    // The new table's layout: the root offset, a vtable of four slots, the Message table, then the footer's bytes.
    private const int VTableStart = 4;
    private const int VTableLength = 12;
    private const int TableStart = VTableStart + VTableLength;
    private const int TableLength = 24;
    private const int FooterStart = TableStart + TableLength;

    /// <summary>
    /// The encapsulated schema message (continuation marker, length, flatbuffer padded to 8 bytes) for the footer
    /// <paramref name="footer"/> (the <c>Footer</c> flatbuffer, field 1 its schema).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The footer or its schema reference is damaged.</exception>
    public static byte[] FromFooter(ReadOnlySpan<byte> footer)
    {
        FlatTable root = FlatTable.Root(footer);
        if (!root.TryGetTable(1, out FlatTable schema))
        {
            throw new ArgumentOutOfRangeException(nameof(footer), "the footer has no schema");
        }

        int messageLength = (FooterStart + footer.Length + 7) & ~7;
        byte[] encapsulated = new byte[8 + messageLength];
        BinaryPrimitives.WriteInt32LittleEndian(encapsulated, -1);
        BinaryPrimitives.WriteInt32LittleEndian(encapsulated.AsSpan(4), messageLength);
        Span<byte> message = encapsulated.AsSpan(8);

        BinaryPrimitives.WriteInt32LittleEndian(message, TableStart);

        Span<byte> vtable = message.Slice(VTableStart, VTableLength);
        BinaryPrimitives.WriteUInt16LittleEndian(vtable, VTableLength);
        BinaryPrimitives.WriteUInt16LittleEndian(vtable[2..], TableLength);
        BinaryPrimitives.WriteUInt16LittleEndian(vtable[4..], 4);   // version
        BinaryPrimitives.WriteUInt16LittleEndian(vtable[6..], 6);   // header_type
        BinaryPrimitives.WriteUInt16LittleEndian(vtable[8..], 8);   // header
        BinaryPrimitives.WriteUInt16LittleEndian(vtable[10..], 16); // bodyLength

        Span<byte> table = message.Slice(TableStart, TableLength);
        BinaryPrimitives.WriteInt32LittleEndian(table, TableStart - VTableStart);
        BinaryPrimitives.WriteInt16LittleEndian(table[4..], root.GetInt16(0)); // the footer's metadata version
        table[6] = SchemaHeader;
        BinaryPrimitives.WriteInt32LittleEndian(table[8..], FooterStart + schema.Position - (TableStart + 8));
        BinaryPrimitives.WriteInt64LittleEndian(table[16..], 0);

        footer.CopyTo(message[FooterStart..]);
        return encapsulated;
    }
}
