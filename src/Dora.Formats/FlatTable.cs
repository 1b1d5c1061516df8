using System.Buffers.Binary;

namespace Dora.Formats;

/// <summary>
/// Reads one table of a flatbuffer (the encoding of Arrow's IPC metadata): a table starts with the signed distance
/// back to its vtable, whose slots give each field's offset inside the table (0 when the field is absent). Reading
/// outside the buffer throws <see cref="ArgumentOutOfRangeException"/>, which callers report as damaged metadata.
/// </summary>
public readonly ref struct FlatTable
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _position;
    private readonly int _vtable;
    private readonly int _vtableLength;

    private FlatTable(ReadOnlySpan<byte> buffer, int position)
    {
        _buffer = buffer;
        _position = position;
        _vtable = checked(position - ReadInt32(buffer, position));
        _vtableLength = ReadUInt16(buffer, _vtable);
    }

    /// <summary>Where the table starts in its buffer.</summary>
    public int Position => _position;

    /// <summary>The root table, which the buffer's first four bytes point at.</summary>
    public static FlatTable Root(ReadOnlySpan<byte> buffer) => new(buffer, ReadInt32(buffer, 0));

    public byte GetByte(int field) => FieldOffset(field) is var at and not 0 ? Bytes(_buffer, checked(_position + at), 1)[0] : (byte)0;

    public short GetInt16(int field) =>
        FieldOffset(field) is var at and not 0 ? BinaryPrimitives.ReadInt16LittleEndian(Bytes(_buffer, checked(_position + at), 2)) : (short)0;

    public long GetInt64(int field) =>
        FieldOffset(field) is var at and not 0 ? BinaryPrimitives.ReadInt64LittleEndian(Bytes(_buffer, checked(_position + at), 8)) : 0;

    /// <summary>A table field (or a union's value); false when absent.</summary>
    public bool TryGetTable(int field, out FlatTable table)
    {
        int reference = Reference(field);
        table = reference == 0 ? default : new FlatTable(_buffer, reference);
        return reference != 0;
    }

    /// <summary>A vector field: where its first element starts and how many it has (0 when absent).</summary>
    public (int Start, int Count) GetVector(int field)
    {
        int reference = Reference(field);
        return reference == 0 ? (0, 0) : (reference + 4, ReadInt32(_buffer, reference));
    }

    /// <summary>The absolute position a reference field points at, or 0 when absent.</summary>
    private int Reference(int field)
    {
        int at = FieldOffset(field);
        return at == 0 ? 0 : checked(_position + at + ReadInt32(_buffer, _position + at));
    }

    private int FieldOffset(int field)
    {
        int slot = 4 + (field * 2);
        return slot + 2 <= _vtableLength ? ReadUInt16(_buffer, _vtable + slot) : 0;
    }

    public static int ReadInt32(ReadOnlySpan<byte> buffer, int at) => BinaryPrimitives.ReadInt32LittleEndian(Bytes(buffer, at, 4));

    private static ushort ReadUInt16(ReadOnlySpan<byte> buffer, int at) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(buffer, at, 2));

    /// <summary>
    /// The <paramref name="count"/> bytes at <paramref name="at"/>: every read goes through here, so a damaged offset
    /// fails one way, whichever field it is in.
    /// </summary>
    private static ReadOnlySpan<byte> Bytes(ReadOnlySpan<byte> buffer, int at, int count) =>
        at < 0 || at > buffer.Length - count
            ? throw new ArgumentOutOfRangeException(nameof(at), at, $"a flatbuffer offset points past its {buffer.Length} bytes")
            : buffer.Slice(at, count);
}
