namespace Dora.Formats;

/// <summary>The Thrift compact protocol's type codes, as they appear on the wire.</summary>
public enum ThriftType : byte
{
    Stop = 0,
    BoolTrue = 1,
    BoolFalse = 2,
    Byte = 3,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    EightByteFloat = 7,
    Binary = 8,
    List = 9,
    Set = 10,
    Map = 11,
    Struct = 12,
}

/// <summary>
/// What a format's Thrift definition says one field holds: its type, and for a struct or a list the struct or element
/// type inside. Enums are <see cref="ThriftType.I32"/>; a bool is written <see cref="ThriftType.BoolTrue"/>.
/// </summary>
public readonly record struct ThriftField(ThriftType Type, ThriftType Element = ThriftType.Stop, ThriftStruct? Struct = null);

/// <summary>A struct (or union) of a format's Thrift definition: its fields by id. Fields it does not list are skipped.</summary>
public sealed class ThriftStruct(string name)
{
    private readonly Dictionary<short, ThriftField> _fields = [];

    public string Name { get; } = name;

    public ThriftField? Field(short id) => _fields.TryGetValue(id, out ThriftField field) ? field : null;

    public ThriftStruct With(short id, ThriftType type)
    {
        _fields.Add(id, new ThriftField(type));
        return this;
    }

    public ThriftStruct With(short id, ThriftStruct value)
    {
        _fields.Add(id, new ThriftField(ThriftType.Struct, Struct: value));
        return this;
    }

    public ThriftStruct ListOf(short id, ThriftType element)
    {
        _fields.Add(id, new ThriftField(ThriftType.List, element));
        return this;
    }

    public ThriftStruct ListOf(short id, ThriftStruct element)
    {
        _fields.Add(id, new ThriftField(ThriftType.List, ThriftType.Struct, element));
        return this;
    }
}
