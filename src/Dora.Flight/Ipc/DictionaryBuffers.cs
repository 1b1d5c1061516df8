using System.Runtime.InteropServices;
using Apache.Arrow;

namespace Dora.Flight.Ipc;

/// <summary>
/// Identifies the dictionaries a batch refers to by where their buffers lie in memory: slices of one decoded batch
/// share them, a new dictionary has other buffers. (Comparing contents would cost a pass over every dictionary.)
/// </summary>
internal static class DictionaryBuffers
{
    /// <summary>The address and length of every buffer of every dictionary in the batch, columns in order; null when it has none.</summary>
    public static List<(nint Address, int Length)>? Of(RecordBatch batch)
    {
        List<(nint, int)>? buffers = null;
        foreach (IArrowArray column in batch.Arrays)
        {
            Collect(column.Data, ref buffers);
        }

        return buffers;
    }

    private static unsafe void Collect(ArrayData data, ref List<(nint, int)>? buffers)
    {
        if (data.Dictionary is { } dictionary)
        {
            buffers ??= [];
            foreach (ArrowBuffer buffer in dictionary.Buffers ?? [])
            {
                ReadOnlySpan<byte> span = buffer.Span;
                fixed (byte* start = &MemoryMarshal.GetReference(span))
                {
                    buffers.Add(((nint)start, span.Length));
                }
            }

            Collect(dictionary, ref buffers);
        }

        foreach (ArrayData child in data.Children ?? [])
        {
            Collect(child, ref buffers);
        }
    }
}
