using Apache.Arrow;
using Apache.Arrow.Types;
using Dora.TestSupport;

namespace Dora.Flight.IntegrationTests;

/// <summary>
/// Parquet files written by Apache Arrow's C++ writer (through ParquetSharp), the way pyarrow writes them: the Arrow
/// schema stored in the file, so dictionary columns read back as dictionaries; nanosecond timestamps with and without a
/// time zone; a dictionary that changes from one row group to the next. Read back through Flight batch by batch.
/// </summary>
public sealed class ArrowWrittenParquetTests : IAsyncLifetime
{
    private const int RowsPerGroup = 700;
    private static readonly DictionaryType TagType = new(Int32Type.Default, StringType.Default, false);
    private FlightCluster _cluster = null!;
    private readonly List<RecordBatch> _written = [];

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(1, _ => { });
        string[][] tagsOfGroup = [["north", "south"], ["east", "west", "up"]];
        for (int group = 0; group < 2; group++)
        {
            var dates = new Date32Array.Builder();
            var indices = new Int32Array.Builder();
            var tags = new StringArray.Builder();
            foreach (string tag in tagsOfGroup[group])
            {
                tags.Append(tag);
            }

            for (int i = 0; i < RowsPerGroup; i++)
            {
                dates.Append(new DateTime(1999, 12, 31).AddDays(i - 400));
                if (i % 9 == 4) { indices.AppendNull(); } else { indices.Append(i % tagsOfGroup[group].Length); }
            }

            _written.Add(new RecordBatch.Builder()
                .Append("ns", true, Nanoseconds(group, null))
                .Append("ns_utc", true, Nanoseconds(group, "UTC"))
                .Append("day", true, dates.Build())
                .Append("tag", true, new DictionaryArray(TagType, indices.Build(), tags.Build()))
                .Build());
        }

        using var properties = new ParquetSharp.Arrow.ArrowWriterPropertiesBuilder().StoreSchema().Build();
        using var writer = new ParquetSharp.Arrow.FileWriter(Path.Combine(_cluster.UfsPath, "arrow-written.parquet"), _written[0].Schema, arrowProperties: properties);
        foreach (RecordBatch batch in _written)
        {
            writer.WriteRecordBatch(batch);
        }

        writer.Close();
    }

    /// <summary>Timestamps whose last digits are nanoseconds (a builder would take ticks of 100 ns).</summary>
    private static TimestampArray Nanoseconds(int group, string? zone)
    {
        var values = new long[RowsPerGroup];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = 1_700_000_000_123_456_789L + (group * 1_000_000_007L) + (i * 1_001L);
        }

        return new TimestampArray(new TimestampType(TimeUnit.Nanosecond, zone), new ArrowBuffer.Builder<long>().AppendRange(values).Build(), ArrowBuffer.Empty, values.Length, 0, 0);
    }

    public async Task DisposeAsync()
    {
        foreach (RecordBatch batch in _written)
        {
            batch.Dispose();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Nanoseconds_time_zones_dates_and_changing_dictionaries_arrive_as_written()
    {
        List<RecordBatch> received = await RawFlight.Of(_cluster, 0).ReadBatchesAsync("""{"kind":"batches","path":"/arrow-written.parquet"}""");
        try
        {
            Assert.Equal(
                ["ns: timestamp[ns]", "ns_utc: timestamp[ns, tz=UTC]", "day: date32[day]", "tag: dictionary<values=string, indices=int32>"],
                ArrowTypeNames.Of(received[0].Schema).Select(f => $"{f.Name}: {f.Type}"));
            Assert.Equal(Rows(_written), Rows(received));
        }
        finally
        {
            received.ForEach(b => b.Dispose());
        }
    }

    private static List<string> Rows(IEnumerable<RecordBatch> batches) =>
    [
        .. batches.SelectMany(batch => Enumerable.Range(0, batch.Length).Select(row =>
            $"{((TimestampArray)batch.Column(0)).GetValue(row)}|{((TimestampArray)batch.Column(1)).GetValue(row)}|{((Date32Array)batch.Column(2)).GetValue(row)}|{Tag(batch.Column(3), row)}")),
    ];

    private static string Tag(IArrowArray column, int row)
    {
        var dictionary = (DictionaryArray)column;
        return dictionary.IsNull(row) ? "null" : ((StringArray)dictionary.Dictionary).GetString(((Int32Array)dictionary.Indices).GetValue(row)!.Value);
    }
}
