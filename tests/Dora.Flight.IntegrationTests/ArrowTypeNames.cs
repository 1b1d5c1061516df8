using Apache.Arrow;
using Apache.Arrow.Types;

namespace Dora.Flight.IntegrationTests;

/// <summary>Arrow types named the way pyarrow prints them (<c>timestamp[us, tz=UTC]</c>, <c>list&lt;element: int64&gt;</c>).</summary>
internal static class ArrowTypeNames
{
    public static string Of(IArrowType type) => type switch
    {
        BooleanType => "bool",
        Int8Type => "int8",
        Int16Type => "int16",
        Int32Type => "int32",
        Int64Type => "int64",
        UInt8Type => "uint8",
        UInt16Type => "uint16",
        UInt32Type => "uint32",
        UInt64Type => "uint64",
        FloatType => "float",
        DoubleType => "double",
        StringType => "string",
        BinaryType => "binary",
        NullType => "null",
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        Decimal256Type d => $"decimal256({d.Precision}, {d.Scale})",
        FixedSizeBinaryType f => $"fixed_size_binary[{f.ByteWidth}]",
        Date32Type => "date32[day]",
        Date64Type => "date64[ms]",
        Time32Type t => $"time32[{Unit(t.Unit)}]",
        Time64Type t => $"time64[{Unit(t.Unit)}]",
        TimestampType t => t.Timezone is null ? $"timestamp[{Unit(t.Unit)}]" : $"timestamp[{Unit(t.Unit)}, tz={t.Timezone}]",
        MapType m => $"map<{Of(m.KeyField.DataType)}, {Of(m.ValueField.DataType)}>",
        ListType l => $"list<{l.ValueField.Name}: {Of(l.ValueDataType)}>",
        StructType s => $"struct<{string.Join(", ", s.Fields.Select(f => $"{f.Name}: {Of(f.DataType)}"))}>",
        DictionaryType d => $"dictionary<values={Of(d.ValueType)}, indices={Of(d.IndexType)}>",
        _ => type.Name,
    };

    public static IEnumerable<(string Name, string Type)> Of(Schema schema) => schema.FieldsList.Select(f => (f.Name, Of(f.DataType)));

    private static string Unit(TimeUnit unit) => unit switch
    {
        TimeUnit.Second => "s",
        TimeUnit.Millisecond => "ms",
        TimeUnit.Microsecond => "us",
        _ => "ns",
    };
}
