using System.Globalization;
using System.Text.Json;
using Apache.Arrow;

namespace Dora.Flight.IntegrationTests;

/// <summary>Rows of Arrow batches as JSON arrays, the way apache-arrow JS prints them, for comparing readers.</summary>
internal static class ArrowJson
{
    public static string Row(RecordBatch batch, int row) =>
        "[" + string.Join(",", Enumerable.Range(0, batch.ColumnCount).Select(c => Value(batch.Column(c), row))) + "]";

    public static string Value(IArrowArray array, int row) => array.IsNull(row) ? "null" : array switch
    {
        DictionaryArray dictionary => Value(dictionary.Dictionary, (int)Index(dictionary.Indices, row)),
        StringArray strings => JsonSerializer.Serialize(strings.GetString(row)),
        Int32Array ints => ints.GetValue(row)!.Value.ToString(CultureInfo.InvariantCulture),
        Int64Array longs => longs.GetValue(row)!.Value.ToString(CultureInfo.InvariantCulture),
        DoubleArray doubles => doubles.GetValue(row)!.Value.ToString("R", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException($"no JSON form for {array.Data.DataType.Name} in these tests"),
    };

    private static long Index(IArrowArray indices, int row) => indices switch
    {
        Int8Array a => a.GetValue(row)!.Value,
        Int16Array a => a.GetValue(row)!.Value,
        Int32Array a => a.GetValue(row)!.Value,
        Int64Array a => a.GetValue(row)!.Value,
        _ => throw new NotSupportedException($"dictionary indices of {indices.Data.DataType.Name}"),
    };
}
