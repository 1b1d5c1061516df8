using System.Buffers.Binary;

namespace Dora.Flight.Ipc;

/// <summary>
/// Writes the flatbuffer IPC <c>Message</c> whose header is a <c>RecordBatch</c> (Arrow's Message.fbs, metadata
/// version V5), for batches whose body Dora lays out itself: the <c>range</c> ticket's batches go out with their page
/// bytes where they were read, with no encoder in between.
/// </summary>
/// <remarks>
/// The layout is fixed and front to back: root offset; Message vtable and table (version, header type, header,
/// bodyLength); RecordBatch vtable and table (length, nodes, buffers); the FieldNode vector; the Buffer vector. Every
/// table is 4-byte aligned and every 8-byte value and struct 8-byte aligned, as flatbuffer verifiers require.
/// </remarks>
internal static class RecordBatchHeader
{
    /// <summary>One column's entry in the header: its length and null count.</summary>
    public readonly record struct FieldNode(long Length, long NullCount);

    /// <summary>One body buffer's place in the body.</summary>
    public readonly record struct BodyBuffer(long Offset, long Length);

    private const short MetadataVersionV5 = 4;
    private const byte MessageHeaderRecordBatch = 3;
    private const int MessageVtable = 4;
    private const int MessageTable = 16;
    private const int BatchVtable = 40;
    private const int BatchTable = 56;
    private const int NodesCount = 84;

    public static int Size(int nodes, int buffers) => NodesCount + 4 + (16 * nodes) + 8 + (16 * buffers);

    /// <summary>Writes the message into <paramref name="destination"/> (at least <see cref="Size"/> bytes) and returns its length.</summary>
    public static int Write(Span<byte> destination, long rows, ReadOnlySpan<FieldNode> nodes, ReadOnlySpan<BodyBuffer> buffers, long bodyLength)
    {
        int size = Size(nodes.Length, buffers.Length);
        Span<byte> message = destination[..size];
        message.Clear();

        BinaryPrimitives.WriteInt32LittleEndian(message, MessageTable);

        // Message vtable: its size, the table's size, then the offsets of version, header_type, header, bodyLength.
        WriteUInt16s(message[MessageVtable..], 12, 24, 4, 6, 8, 16);
        BinaryPrimitives.WriteInt32LittleEndian(message[MessageTable..], MessageTable - MessageVtable);
        BinaryPrimitives.WriteInt16LittleEndian(message[(MessageTable + 4)..], MetadataVersionV5);
        message[MessageTable + 6] = MessageHeaderRecordBatch;
        WriteReference(message, MessageTable + 8, BatchTable);
        BinaryPrimitives.WriteInt64LittleEndian(message[(MessageTable + 16)..], bodyLength);

        // RecordBatch vtable: size, table size, offsets of length, nodes, buffers.
        WriteUInt16s(message[BatchVtable..], 10, 24, 8, 4, 16);
        BinaryPrimitives.WriteInt32LittleEndian(message[BatchTable..], BatchTable - BatchVtable);
        WriteReference(message, BatchTable + 4, NodesCount);
        BinaryPrimitives.WriteInt64LittleEndian(message[(BatchTable + 8)..], rows);

        int at = NodesCount;
        BinaryPrimitives.WriteInt32LittleEndian(message[at..], nodes.Length);
        at += 4;
        foreach (FieldNode node in nodes)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message[at..], node.Length);
            BinaryPrimitives.WriteInt64LittleEndian(message[(at + 8)..], node.NullCount);
            at += 16;
        }

        // The buffers' count sits 4 bytes before an 8-byte boundary so that the structs after it are aligned.
        at += 4;
        WriteReference(message, BatchTable + 16, at);
        BinaryPrimitives.WriteInt32LittleEndian(message[at..], buffers.Length);
        at += 4;
        foreach (BodyBuffer buffer in buffers)
        {
            BinaryPrimitives.WriteInt64LittleEndian(message[at..], buffer.Offset);
            BinaryPrimitives.WriteInt64LittleEndian(message[(at + 8)..], buffer.Length);
            at += 16;
        }

        return size;
    }

    private static void WriteReference(Span<byte> message, int at, int target) =>
        BinaryPrimitives.WriteInt32LittleEndian(message[at..], target - at);

    private static void WriteUInt16s(Span<byte> destination, params ReadOnlySpan<ushort> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], values[i]);
        }
    }
}
