using System.Buffers.Binary;
using System.Text;

namespace Dora.Core.Protocol;

/// <summary>Reads the fields of a payload in order; a short or malformed payload throws <see cref="FormatException"/>.</summary>
public ref struct PayloadReader(ReadOnlySpan<byte> payload)
{
    private readonly ReadOnlySpan<byte> _payload = payload;
    private int _position;

    /// <summary>True when every byte was consumed.</summary>
    public readonly bool AtEnd => _position == _payload.Length;

    public byte ReadU8() => Take(1)[0];

    public ushort ReadU16()
    {
        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        return value;
    }

    public uint ReadU32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadI64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>A string: u16 byte length, then UTF-8 (invalid UTF-8 is a format error).</summary>
    public string ReadString()
    {
        int length = ReadU16();
        ReadOnlySpan<byte> bytes = Take(length);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException("a string field is not valid UTF-8", e);
        }
    }

    /// <summary>The rest of the payload.</summary>
    public ReadOnlySpan<byte> ReadRest() => Take(_payload.Length - _position);

    /// <summary>Fails unless the payload was consumed exactly.</summary>
    public readonly void EnsureEnd()
    {
        if (!AtEnd)
        {
            throw new FormatException($"{_payload.Length - _position} unexpected bytes after the last field");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_payload.Length - _position < count)
        {
            throw new FormatException("the payload ends in the middle of a field");
        }

        ReadOnlySpan<byte> slice = _payload.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
