using Apache.Arrow;
using Apache.Arrow.Flight;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight.IntegrationTests;

public sealed class ChunkTicketTests : IAsyncLifetime
{
    private FlightCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "blob.bin"), 5000, seed: 8));
        await WriteParquetAsync(Path.Combine(_cluster.UfsPath, "trips.parquet"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static async Task WriteParquetAsync(string path)
    {
        var id = new DataField<long>("id");
        var fare = new DataField<double>("fare");
        var zone = new DataField<string>("zone");
        await using var file = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, fare, zone), file);
        for (int group = 0; group < 3; group++)
        {
            long[] ids = [.. Enumerable.Range(group * 50_000, 50_000).Select(i => (long)i)];
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync<long>(id, ids);
            await rowGroup.WriteAsync<double>(fare, ids.Select(i => (i % 997) * 0.5).ToArray());
            await rowGroup.WriteAsync(zone, ids.Select(i => $"zone-{i % 263}").ToArray());
        }
    }

    private async Task<byte[]> DoGetAsync(string json)
    {
        using var call = _cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8(json)));
        using var bytes = new MemoryStream();
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            var data = (BinaryArray)call.ResponseStream.Current.Column(1);
            for (int row = 0; row < data.Length; row++)
            {
                bytes.Write(data.GetBytes(row));
            }
        }

        return bytes.ToArray();
    }

    [Fact]
    public async Task A_chunk_ticket_streams_exactly_the_column_chunk_the_footer_describes()
    {
        string local = Path.Combine(_cluster.UfsPath, "trips.parquet");
        byte[] file = await File.ReadAllBytesAsync(local);
        await using var stream = File.OpenRead(local);
        await using ParquetReader reader = await ParquetReader.CreateAsync(stream);
        for (int group = 0; group < 3; group++)
        {
            foreach (var chunk in reader.Metadata!.RowGroups[group].Columns)
            {
                var meta = chunk.MetaData!;
                long start = meta.DictionaryPageOffset is > 0 and var d && d < meta.DataPageOffset ? d : meta.DataPageOffset;
                string column = string.Join('.', meta.PathInSchema);
                byte[] bytes = await DoGetAsync($$"""{"kind":"chunk","path":"/trips.parquet","rowGroup":{{group}},"column":"{{column}}"}""");
                Assert.Equal(file.AsSpan((int)start, (int)meta.TotalCompressedSize).ToArray(), bytes);
            }
        }
    }

    [Theory]
    [InlineData("""{"kind":"chunk","path":"/blob.bin","rowGroup":0,"column":"x"}""", "is not a Parquet file")]
    [InlineData("""{"kind":"chunk","path":"/trips.parquet","rowGroup":7,"column":"fare"}""", "has 3 row groups; rowGroup 7 does not exist")]
    [InlineData("""{"kind":"chunk","path":"/trips.parquet","rowGroup":0,"column":"tip"}""", "no column 'tip'; its columns are: id, fare, zone")]
    [InlineData("""{"kind":"chunk","path":"/trips.parquet","column":"fare"}""", "needs \"rowGroup\"")]
    [InlineData("""{"kind":"chunk","path":"/trips.parquet","rowGroup":0}""", "needs \"column\"")]
    public async Task Bad_chunk_tickets_are_invalid_arguments_naming_the_problem(string ticket, string expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => DoGetAsync(ticket));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }
}
