namespace Dora.Formats;

/// <summary>
/// Checks that bytes hold a well-formed Thrift compact-protocol struct (the encoding of Parquet footers and page
/// headers) before a full parser sees them: every field the format defines has the type the format gives it, every list,
/// set, map and string fits in the bytes that are there, and nesting stays shallow. Parsers that trust these bytes
/// (Parquet.Net reads a field by its id whatever its type, and sizes lists by their declared count) would otherwise
/// loop for minutes or allocate gigabytes on a crafted footer; this walk is bounded by the byte count.
/// </summary>
public static class ThriftCompactCheck
{
    /// <summary>Deepest nesting of structs and containers accepted; Parquet's own structs nest a few levels.</summary>
    private const int MaxDepth = 64;

    /// <summary>
    /// Walks the <paramref name="schema"/> struct at the start of <paramref name="data"/> and returns its length in bytes.
    /// Its top-level i32 fields numbered below <c>i32Fields.Length</c> are stored at their number; the others' slots keep
    /// what they held.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not a well-formed struct; the message says what is wrong.</exception>
    public static int Struct(ReadOnlySpan<byte> data, ThriftStruct schema, Span<long> i32Fields = default)
    {
        var walk = new Walk(data);
        walk.Struct(depth: 0, schema, i32Fields);
        return walk.Position;
    }

    private ref struct Walk(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        private readonly int Remaining => _data.Length - Position;

        /// <summary>A struct's fields up to its stop byte, keeping the i32 fields that have a slot.</summary>
        public void Struct(int depth, ThriftStruct? schema, Span<long> i32Fields)
        {
            Deeper(depth);
            short fieldId = 0;
            while (true)
            {
                byte header = Byte();
                if (header == 0)
                {
                    return;
                }

                // Only a whole zero byte ends a struct (Parquet.Net compares the whole byte): type 0 with a field id is damage.
                var type = (ThriftType)(header & 0x0F);
                if (type == ThriftType.Stop)
                {
                    throw new FormatException($"a field of Thrift type 0 at byte {Position - 1}");
                }

                // Parquet.Net skips a struct the format does not define by reading field headers alone, as if none had
                // a value; only such a struct reads the same both ways.
                if (schema is null && type is not (ThriftType.BoolTrue or ThriftType.BoolFalse))
                {
                    throw new FormatException($"a struct the format does not define holds a field of Thrift type {type} at byte {Position - 1}");
                }

                int delta = header >> 4;
                fieldId = delta == 0 ? checked((short)ZigZag(VarInt(5))) : checked((short)(fieldId + delta));
                ThriftField? expected = schema?.Field(fieldId);
                if (expected is { } field && !SameType(type, field.Type))
                {
                    throw new FormatException($"field {fieldId} of {schema!.Name} at byte {Position} has Thrift type {type} where the format has {field.Type}");
                }

                if (type == ThriftType.I32 && fieldId >= 0 && fieldId < i32Fields.Length)
                {
                    i32Fields[fieldId] = (int)ZigZag(VarInt(5));
                    continue;
                }

                // A bool field's value is its type: nothing follows it.
                if (type is not (ThriftType.BoolTrue or ThriftType.BoolFalse))
                {
                    Value(type, depth + 1, expected);
                }
            }
        }

        private void Value(ThriftType type, int depth, ThriftField? expected)
        {
            switch (type)
            {
                case ThriftType.BoolTrue or ThriftType.BoolFalse or ThriftType.Byte:
                    // In a container a bool takes a byte, as a byte does.
                    Skip(1);
                    break;
                case ThriftType.I16 or ThriftType.I32:
                    _ = VarInt(5);
                    break;
                case ThriftType.I64:
                    _ = VarInt(10);
                    break;
                case ThriftType.EightByteFloat:
                    Skip(8);
                    break;
                case ThriftType.Binary:
                    Skip(Count(VarInt(5), "a string"));
                    break;
                case ThriftType.List or ThriftType.Set:
                    List(depth, expected);
                    break;
                case ThriftType.Map:
                    Map(depth);
                    break;
                case ThriftType.Struct:
                    Struct(depth, expected?.Struct, i32Fields: default);
                    break;
                default:
                    throw new FormatException($"unknown Thrift type {(byte)type} at byte {Position}");
            }
        }

        private void List(int depth, ThriftField? expected)
        {
            Deeper(depth);
            byte header = Byte();
            var elementType = (ThriftType)(header & 0x0F);
            long size = header >> 4 == 15 ? VarInt(5) : header >> 4;

            // Every element takes at least one byte: a count larger than what is left is a lie.
            int count = Count(size, "a list");
            if (count > 0)
            {
                ElementsOf(elementType, expected?.Element);
            }

            var element = expected is { Struct: { } structType } ? new ThriftField(ThriftType.Struct, Struct: structType) : (ThriftField?)null;
            for (int i = 0; i < count; i++)
            {
                Value(elementType, depth + 1, element);
            }
        }

        private void Map(int depth)
        {
            Deeper(depth);
            long size = VarInt(5);
            if (size == 0)
            {
                return;
            }

            byte types = Byte();
            int count = Count(size * 2, "a map") / 2;
            ElementsOf((ThriftType)(types >> 4), expected: null);
            ElementsOf((ThriftType)(types & 0x0F), expected: null);
            for (int i = 0; i < count; i++)
            {
                Value((ThriftType)(types >> 4), depth + 1, expected: null);
                Value((ThriftType)(types & 0x0F), depth + 1, expected: null);
            }
        }

        /// <summary>
        /// A container's element type must be the one the format gives it; and bools, which Parquet.Net skips without
        /// reading their byte, are refused in containers the format does not define (it defines none).
        /// </summary>
        private readonly void ElementsOf(ThriftType type, ThriftType? expected)
        {
            if (expected is { } wanted ? !SameType(type, wanted) : type is ThriftType.BoolTrue or ThriftType.BoolFalse)
            {
                throw new FormatException($"a container at byte {Position} holds Thrift type {type} where the format has {expected?.ToString() ?? "none"}");
            }
        }

        private static bool SameType(ThriftType actual, ThriftType expected) =>
            actual == expected || (expected is ThriftType.BoolTrue or ThriftType.BoolFalse && actual is ThriftType.BoolTrue or ThriftType.BoolFalse);

        private readonly int Count(long declared, string what) =>
            declared >= 0 && declared <= Remaining
                ? (int)declared
                : throw new FormatException($"{what} at byte {Position} declares {declared} elements or bytes, but only {Remaining} bytes are left");

        private readonly void Deeper(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new FormatException($"nesting deeper than {MaxDepth} levels at byte {Position}");
            }
        }

        private byte Byte()
        {
            if (Remaining < 1)
            {
                throw new FormatException($"the struct ends early, at byte {Position}");
            }

            return _data[Position++];
        }

        private void Skip(int bytes)
        {
            if (bytes > Remaining)
            {
                throw new FormatException($"{bytes} bytes at byte {Position} run past the end ({Remaining} left)");
            }

            Position += bytes;
        }

        private long VarInt(int maxBytes)
        {
            ulong value = 0;
            for (int shift = 0, i = 0; i < maxBytes; i++, shift += 7)
            {
                byte next = Byte();
                value |= (ulong)(next & 0x7F) << shift;
                if ((next & 0x80) == 0)
                {
                    return (long)value;
                }
            }

            throw new FormatException($"a varint longer than {maxBytes} bytes at byte {Position}");
        }

        private static long ZigZag(long value) => (long)((ulong)value >> 1) ^ -(value & 1);
    }
}
