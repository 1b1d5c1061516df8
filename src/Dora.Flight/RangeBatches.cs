using System.Buffers.Binary;
using Apache.Arrow;
using Apache.Arrow.Types;
using Dora.Flight.Ipc;

namespace Dora.Flight;

/// <summary>
/// The <c>range</c> ticket's batches, <c>offset: int64, data: binary</c>, one row per page-sized piece. Dora lays out
/// their IPC body itself so the page bytes are read once, into the body, and sent from there:
/// <code>[offset values: rows x int64][data offsets: (rows + 1) x int32][data bytes]</code>, each part padded to 8
/// bytes, with empty validity buffers (no nulls).
/// </summary>
internal static class RangeBatches
{
    public static Schema Schema { get; } = new Schema.Builder()
        .Field(f => f.Name("offset").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("data").DataType(BinaryType.Default).Nullable(false))
        .Build();

    /// <summary>The schema in the encapsulated form of FlightInfo.schema.</summary>
    public static byte[] EncapsulatedSchema { get; } = IpcEncoder.EncapsulatedSchema(Schema);

    /// <summary>The schema message a range DoGet starts with.</summary>
    public static IpcMessage SchemaMessage { get; } = IpcMessage.Split(EncapsulatedSchema)[0];

    /// <summary>Where the data bytes start in the body of a batch of <paramref name="rows"/> rows.</summary>
    public static int DataStart(int rows) => Align8(rows * sizeof(long)) + Align8((rows + 1) * sizeof(int));

    /// <summary>The body length of a batch of <paramref name="rows"/> rows holding <paramref name="dataBytes"/> bytes.</summary>
    public static int BodyLength(int rows, int dataBytes) => DataStart(rows) + Align8(dataBytes);

    /// <summary>
    /// Completes a body whose data bytes are already at <see cref="DataStart"/>: writes the offsets before them and the
    /// padding after them, and returns the batch's header message.
    /// </summary>
    public static byte[] Complete(Span<byte> body, long firstOffset, ReadOnlySpan<int> lengths)
    {
        int rows = lengths.Length;
        int valueOffsetsStart = Align8(rows * sizeof(long));
        int dataStart = DataStart(rows);
        long position = firstOffset;
        int dataBytes = 0;
        for (int i = 0; i < rows; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(body[(i * sizeof(long))..], position);
            BinaryPrimitives.WriteInt32LittleEndian(body[(valueOffsetsStart + (i * sizeof(int)))..], dataBytes);
            position += lengths[i];
            dataBytes += lengths[i];
        }

        BinaryPrimitives.WriteInt32LittleEndian(body[(valueOffsetsStart + (rows * sizeof(int)))..], dataBytes);
        body[(rows * sizeof(long))..valueOffsetsStart].Clear();
        body[(valueOffsetsStart + ((rows + 1) * sizeof(int)))..dataStart].Clear();
        int bodyLength = BodyLength(rows, dataBytes);
        body[(dataStart + dataBytes)..bodyLength].Clear();

        ReadOnlySpan<RecordBatchHeader.FieldNode> nodes = [new(rows, 0), new(rows, 0)];
        ReadOnlySpan<RecordBatchHeader.BodyBuffer> buffers =
        [
            new(0, 0),
            new(0, rows * sizeof(long)),
            new(valueOffsetsStart, 0),
            new(valueOffsetsStart, (rows + 1) * sizeof(int)),
            new(dataStart, dataBytes),
        ];
        byte[] header = new byte[RecordBatchHeader.Size(nodes.Length, buffers.Length)];
        RecordBatchHeader.Write(header, rows, nodes, buffers, bodyLength);
        return header;
    }

    private static int Align8(int value) => (value + 7) & ~7;
}
