using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Dora.TestSupport;
using Google.Protobuf;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight.IntegrationTests;

public sealed class DecimalBatchesTests
{
    [Fact]
    public async Task Decimal_columns_decode_with_their_precision_scale_and_nulls()
    {
        await using FlightCluster cluster = await FlightCluster.StartAsync(1, _ => { });
        var amount = new DecimalDataField("amount", 10, 2, isNullable: true);
        decimal?[] written = [.. Enumerable.Range(0, 5000).Select(i => i % 13 == 0 ? (decimal?)null : (i * 1.25m) - 300.5m)];
        await using (var file = File.Create(Path.Combine(cluster.UfsPath, "money.parquet")))
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(amount), file))
        using (ParquetRowGroupWriter rowGroup = writer.CreateRowGroup())
        {
            await rowGroup.WriteAsync<decimal>(amount, written);
        }

        using var call = cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8("""{"kind":"batches","path":"/money.parquet"}""")));
        var type = (Decimal128Type)(await call.ResponseStream.Schema.Within()).GetFieldByName("amount").DataType;
        Assert.Equal((10, 2), (type.Precision, type.Scale));
        var read = new List<decimal?>();
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            var column = (Decimal128Array)call.ResponseStream.Current.Column(0);
            read.AddRange(Enumerable.Range(0, column.Length).Select(i => column.GetValue(i)));
        }

        Assert.Equal(written, read);
    }
}
