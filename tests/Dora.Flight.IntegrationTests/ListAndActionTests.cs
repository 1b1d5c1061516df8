using System.Text;
using System.Text.Json;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

public sealed class ListAndActionTests : IAsyncLifetime
{
    private FlightCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(1, ufs =>
        {
            Directory.CreateDirectory(Path.Combine(ufs, "lake", "day=1"));
            Directory.CreateDirectory(Path.Combine(ufs, "lake", "day=2"));
            TestFiles.Write(Path.Combine(ufs, "lake", "day=1", "a.bin"), 300_000, seed: 1);
            TestFiles.Write(Path.Combine(ufs, "lake", "day=2", "b.bin"), 1000, seed: 2);
            TestFiles.Write(Path.Combine(ufs, "top.bin"), 10, seed: 3);
            WriteMixed(Path.Combine(ufs, "mixed"));
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>A folder of every kind of file: Parquet (two row groups), Arrow IPC, raw bytes, and a damaged Parquet file.</summary>
    private static void WriteMixed(string folder)
    {
        Directory.CreateDirectory(folder);
        var ids = new Apache.Arrow.Int64Array.Builder();
        for (int i = 0; i < 100; i++)
        {
            ids.Append(i);
        }

        using Apache.Arrow.RecordBatch batch = new Apache.Arrow.RecordBatch.Builder().Append("id", false, ids.Build()).Build();
        using (var parquet = new ParquetSharp.Arrow.FileWriter(Path.Combine(folder, "a.parquet"), batch.Schema))
        {
            parquet.WriteRecordBatch(batch, chunkSize: 60);
            parquet.Close();
        }

        using (var stream = File.Create(Path.Combine(folder, "b.arrow")))
        using (var arrow = new Apache.Arrow.Ipc.ArrowFileWriter(stream, batch.Schema))
        {
            arrow.WriteRecordBatch(batch);
            arrow.WriteEnd();
        }

        TestFiles.Write(Path.Combine(folder, "c.bin"), 5000, seed: 4);
        byte[] damaged = new byte[200];
        "PAR1"u8.CopyTo(damaged);
        BitConverter.GetBytes(100).CopyTo(damaged, 192);
        "PAR1"u8.CopyTo(damaged.AsSpan(196));
        File.WriteAllBytes(Path.Combine(folder, "d.parquet"), damaged);
    }

    [Fact]
    public async Task Each_listed_flight_is_what_get_flight_info_says_of_that_file()
    {
        FlightClient client = _cluster.Client(0);
        var listed = new List<FlightInfo>();
        using (var call = client.ListFlights(new FlightCriteria("/mixed")))
        {
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
                listed.Add(call.ResponseStream.Current);
            }
        }

        Assert.Equal(["/mixed/a.parquet", "/mixed/b.arrow", "/mixed/c.bin", "/mixed/d.parquet"], listed.Select(f => f.Descriptor.Paths.Single()).Order(StringComparer.Ordinal));
        foreach (FlightInfo flight in listed)
        {
            string path = flight.Descriptor.Paths.Single();
            if (path == "/mixed/d.parquet")
            {
                // Damaged: listed as raw ranges with the reason, and GetFlightInfo refuses it with that reason.
                using JsonDocument metadata = JsonDocument.Parse(flight.AppMetadata.ToByteArray());
                string reason = metadata.RootElement.GetProperty("error").GetString()!;
                Assert.Contains("'/mixed/d.parquet' cannot be read as Parquet", reason, StringComparison.Ordinal);
                var refused = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(FlightDescriptor.CreatePathDescriptor(path)).ResponseAsync.WaitAsync(TestTimeouts.Default));
                Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
                Assert.Equal(reason, refused.Status.Detail);
                continue;
            }

            FlightInfo asked = await client.GetInfo(FlightDescriptor.CreatePathDescriptor(path)).ResponseAsync.WaitAsync(TestTimeouts.Default);
            Assert.Equal(asked.Schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}"), flight.Schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}"));
            Assert.Equal(asked.TotalRecords, flight.TotalRecords);
            Assert.Equal(asked.TotalBytes, flight.TotalBytes);
            Assert.Equal(asked.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()), flight.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()));
        }

        FlightInfo parquetFlight = listed.Single(f => f.Descriptor.Paths.Single() == "/mixed/a.parquet");
        Assert.Equal(2, parquetFlight.Endpoints.Count);
        Assert.Equal(100, parquetFlight.TotalRecords);
        Assert.Contains("\"kind\":\"batches\"", parquetFlight.Endpoints[0].Ticket.Ticket.ToStringUtf8(), StringComparison.Ordinal);
    }

    private static async Task<JsonDocument> ActionAsync(FlightClient client, string type, string? body = null)
    {
        using var call = client.DoAction(new FlightAction(type, body is null ? ByteString.Empty : ByteString.CopyFrom(body, Encoding.UTF8)));
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
        return JsonDocument.Parse(call.ResponseStream.Current.Body.ToByteArray());
    }

    [Fact]
    public async Task List_flights_walks_the_prefix_recursively_and_accepts_a_single_file()
    {
        FlightClient client = _cluster.Client(0);
        async Task<List<(string Path, long Bytes)>> ListAsync(string criteria)
        {
            var flights = new List<(string, long)>();
            using var call = client.ListFlights(new FlightCriteria(criteria));
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
                FlightInfo info = call.ResponseStream.Current;
                flights.Add((info.Descriptor.Paths.Single(), info.TotalBytes));
            }

            return flights;
        }

        var lake = await ListAsync("/lake");
        Assert.Equal([("/lake/day=1/a.bin", 300_000L), ("/lake/day=2/b.bin", 1000L)], lake.OrderBy(f => f.Path, StringComparer.Ordinal));
        Assert.Equal(7, (await ListAsync(string.Empty)).Count);
        Assert.Equal([("/top.bin", 10L)], await ListAsync("/top.bin"));
        var missing = await Assert.ThrowsAsync<RpcException>(() => ListAsync("/nope"));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Load_caches_a_file_evict_drops_it_and_stat_and_stats_show_it()
    {
        FlightClient client = _cluster.Client(0);
        using (JsonDocument load = await ActionAsync(client, "load", """{"path":"/lake/day=1/a.bin"}"""))
        {
            Assert.Equal(300_000, load.RootElement.GetProperty("bytes").GetInt64());
        }

        using (JsonDocument stat = await ActionAsync(client, "stat", """{"path":"/lake/day=1/a.bin"}"""))
        {
            Assert.Equal(300_000, stat.RootElement.GetProperty("cachedBytes").GetInt64());
        }

        using (JsonDocument stats = await ActionAsync(client, "stats"))
        {
            Assert.True(stats.RootElement.GetProperty("cachePages").GetInt64() >= 5);
        }

        using (JsonDocument evict = await ActionAsync(client, "evict", """{"path":"/lake/day=1/a.bin"}"""))
        {
            Assert.Equal(5, evict.RootElement.GetProperty("droppedPages").GetInt32());
        }

        using (JsonDocument stat = await ActionAsync(client, "stat", """{"path":"/lake/day=1/a.bin"}"""))
        {
            Assert.Equal(0, stat.RootElement.GetProperty("cachedBytes").GetInt64());
        }

        using (JsonDocument invalidate = await ActionAsync(client, "invalidate", """{"path":"/lake","recursive":true}"""))
        {
            Assert.True(invalidate.RootElement.GetProperty("recursive").GetBoolean());
        }
    }

    [Theory]
    [InlineData("stat", "", "needs a JSON object body")]
    [InlineData("stat", "{\"path\":3}", "\"path\" string")]
    [InlineData("load", "{\"path\":\"/top.bin\",\"offset\":\"x\"}", "\"offset\" must be a whole number")]
    [InlineData("evict", "{\"path\":\"/lake\"}", "directory")]
    [InlineData("load", "{not json", "not valid JSON")]
    public async Task Bad_action_bodies_are_invalid_arguments_naming_the_problem(string type, string body, string expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => ActionAsync(_cluster.Client(0), type, body));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }
}
