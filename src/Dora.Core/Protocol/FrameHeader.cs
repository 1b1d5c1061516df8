using System.Buffers.Binary;

namespace Dora.Core.Protocol;

/// <summary>
/// The 16-byte frame header, little-endian: <c>u32 length</c> (bytes after this field: 12 + payload),
/// <c>u8 type</c>, <c>u8 flags</c>, <c>u16 reserved = 0</c>, <c>u64 request id</c>.
/// </summary>
public readonly record struct FrameHeader(FrameType Type, FrameBits Flags, ulong RequestId, int PayloadLength)
{
    /// <summary>Bytes of a header on the wire.</summary>
    public const int Size = 16;

    /// <summary>Header bytes counted by the length field.</summary>
    private const int CountedHeaderBytes = Size - sizeof(uint);

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)(PayloadLength + CountedHeaderBytes));
        destination[4] = (byte)Type;
        destination[5] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], RequestId);
    }

    /// <summary>
    /// Reads a header and checks it against <paramref name="maxPayload"/>. Returns null and an explanation when the
    /// header is malformed (the connection cannot continue).
    /// </summary>
    public static FrameHeader? TryRead(ReadOnlySpan<byte> source, long maxPayload, out string? problem, out bool tooLarge)
    {
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        tooLarge = false;
        if (length < CountedHeaderBytes)
        {
            problem = $"frame length {length} is shorter than the header";
            return null;
        }

        if (length - CountedHeaderBytes > maxPayload)
        {
            tooLarge = true;
            problem = $"frame payload of {length - CountedHeaderBytes} bytes exceeds the limit of {maxPayload}";
            return null;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            problem = "reserved header bits are set";
            return null;
        }

        problem = null;
        return new FrameHeader((FrameType)source[4], (FrameBits)source[5], BinaryPrimitives.ReadUInt64LittleEndian(source[8..]), (int)(length - CountedHeaderBytes));
    }
}
