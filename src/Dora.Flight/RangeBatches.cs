using Apache.Arrow;
using Apache.Arrow.Types;

namespace Dora.Flight;

/// <summary>
/// The <c>range</c> ticket's schema, <c>offset: int64, data: binary</c>, and record batches of it built over buffers
/// the page bytes were read into, without copying them again.
/// </summary>
internal static class RangeBatches
{
    public static Schema Schema { get; } = new Schema.Builder()
        .Field(f => f.Name("offset").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("data").DataType(BinaryType.Default).Nullable(false))
        .Build();

    /// <summary>A batch whose rows are the pieces <paramref name="lengths"/> laid end to end in <paramref name="data"/>.</summary>
    public static RecordBatch Build(long firstOffset, ReadOnlyMemory<byte> data, IReadOnlyList<int> lengths)
    {
        int rows = lengths.Count;
        var offsets = new long[rows];
        var valueOffsets = new int[rows + 1];
        long position = firstOffset;
        for (int i = 0; i < rows; i++)
        {
            offsets[i] = position;
            valueOffsets[i + 1] = valueOffsets[i] + lengths[i];
            position += lengths[i];
        }

        var offsetArray = new Int64Array(new ArrowBuffer.Builder<long>(rows).AppendRange(offsets).Build(), ArrowBuffer.Empty, rows, 0, 0);
        var valueOffsetBuffer = new ArrowBuffer.Builder<int>(rows + 1).AppendRange(valueOffsets).Build();
        var dataArray = new BinaryArray(BinaryType.Default, rows, valueOffsetBuffer, new ArrowBuffer(data[..valueOffsets[rows]]), ArrowBuffer.Empty, 0, 0);
        return new RecordBatch(Schema, [offsetArray, dataArray], rows);
    }
}
