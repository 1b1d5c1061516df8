using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Dora.TestSupport;
using Google.Protobuf;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight.IntegrationTests;

public sealed class TimeBatchesTests
{
    [Fact]
    public async Task Time_of_day_columns_decode_in_their_own_unit_with_nulls()
    {
        await using FlightCluster cluster = await FlightCluster.StartAsync(1, _ => { });
        var millis = new TimeDataField("millis", TimeUnitPrecision.Millis, isNullable: true);
        var micros = new TimeDataField("micros", TimeUnitPrecision.Micros, isNullable: true);
        var nanos = new TimeDataField("nanos", TimeUnitPrecision.Nanos, isNullable: false);
        const int Rows = 3000;
        int?[] writtenMillis = [.. Enumerable.Range(0, Rows).Select(i => i % 11 == 0 ? (int?)null : i * 28_001 % 86_400_000)];
        long?[] writtenMicros = [.. Enumerable.Range(0, Rows).Select(i => i % 7 == 0 ? (long?)null : i * 28_000_003L % 86_400_000_000L)];
        long[] writtenNanos = [.. Enumerable.Range(0, Rows).Select(i => i * 28_000_000_007L % 86_400_000_000_000L)];
        await using (var file = File.Create(Path.Combine(cluster.UfsPath, "times.parquet")))
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(millis, micros, nanos), file))
        using (ParquetRowGroupWriter rowGroup = writer.CreateRowGroup())
        {
            await rowGroup.WriteAsync<int>(millis, writtenMillis);
            await rowGroup.WriteAsync<long>(micros, writtenMicros);
            await rowGroup.WriteAsync<long>(nanos, writtenNanos);
        }

        using var call = cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8("""{"kind":"batches","path":"/times.parquet"}""")));
        Schema schema = await call.ResponseStream.Schema.Within();
        Assert.Equal(TimeUnit.Millisecond, Assert.IsType<Time32Type>(schema.GetFieldByName("millis").DataType).Unit);
        Assert.Equal(TimeUnit.Microsecond, Assert.IsType<Time64Type>(schema.GetFieldByName("micros").DataType).Unit);
        Assert.Equal(TimeUnit.Nanosecond, Assert.IsType<Time64Type>(schema.GetFieldByName("nanos").DataType).Unit);
        var readMillis = new List<int?>();
        var readMicros = new List<long?>();
        var readNanos = new List<long?>();
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            var m = (Time32Array)batch.Column(0);
            var u = (Time64Array)batch.Column(1);
            var n = (Time64Array)batch.Column(2);
            readMillis.AddRange(Enumerable.Range(0, batch.Length).Select(i => m.GetValue(i)));
            readMicros.AddRange(Enumerable.Range(0, batch.Length).Select(i => u.GetValue(i)));
            readNanos.AddRange(Enumerable.Range(0, batch.Length).Select(i => n.GetValue(i)));
        }

        Assert.Equal(writtenMillis, readMillis);
        Assert.Equal(writtenMicros, readMicros);
        Assert.Equal(writtenNanos.Select(v => (long?)v), readNanos);
    }
}
