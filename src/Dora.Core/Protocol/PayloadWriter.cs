using System.Buffers.Binary;
using System.Text;

namespace Dora.Core.Protocol;

/// <summary>Writes payload fields into a caller's buffer, after room for the frame header.</summary>
public ref struct PayloadWriter(Span<byte> buffer)
{
    private readonly Span<byte> _buffer = buffer;
    private int _position = FrameHeader.Size;

    /// <summary>Payload bytes written so far.</summary>
    public readonly int PayloadLength => _position - FrameHeader.Size;

    public void WriteU8(byte value)
    {
        _buffer[_position] = value;
        _position += 1;
    }

    public void WriteU16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void WriteU32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void WriteI64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer[_position..], value);
        _position += 8;
    }

    /// <summary>u16 byte length, then UTF-8.</summary>
    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetBytes(value, _buffer[(_position + 2)..]);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"A string field of {length} bytes is longer than 65535.", nameof(value));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[_position..], (ushort)length);
        _position += 2 + length;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes the header in front and returns the whole frame's length.</summary>
    public readonly int Finish(FrameType type, FrameBits flags, ulong requestId)
    {
        new FrameHeader(type, flags, requestId, PayloadLength).Write(_buffer);
        return _position;
    }
}
