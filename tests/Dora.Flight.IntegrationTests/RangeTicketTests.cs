using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

public sealed class RangeTicketTests : IAsyncLifetime
{
    private FlightCluster _cluster = null!;
    private byte[] _big = [];

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(2, ufs =>
        {
            // Larger than one 4 MiB message, so batches must be cut to fit gRPC's default limit.
            TestFiles.Write(Path.Combine(ufs, "big.bin"), (9 << 20) + 12345, seed: 4);
            File.WriteAllText(Path.Combine(ufs, "empty.txt"), string.Empty);
        });
        _big = await File.ReadAllBytesAsync(Path.Combine(_cluster.UfsPath, "big.bin"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static FlightTicket Ticket(string json) => new(ByteString.CopyFromUtf8(json));

    /// <summary>Reads a range stream: checks the schema and that offsets are contiguous, and returns the bytes.</summary>
    private static async Task<byte[]> ReadRangeAsync(FlightClient client, FlightTicket ticket)
    {
        using var call = client.GetStream(ticket);
        Schema schema = await call.ResponseStream.Schema.Within();
        Assert.Equal(["offset", "data"], schema.FieldsList.Select(f => f.Name));
        using var bytes = new MemoryStream();
        long? next = null;
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            var offsets = (Int64Array)batch.Column(0);
            var data = (BinaryArray)batch.Column(1);
            for (int row = 0; row < batch.Length; row++)
            {
                long offset = offsets.GetValue(row)!.Value;
                Assert.True(next is null || next == offset, $"row at {offset} does not follow {next}");
                ReadOnlySpan<byte> piece = data.GetBytes(row);
                Assert.True(piece.Length <= FlightCluster.PageSize);
                bytes.Write(piece);
                next = offset + piece.Length;
            }
        }

        return bytes.ToArray();
    }

    [Fact]
    public async Task A_range_ticket_streams_exactly_the_bytes_of_the_range_in_page_sized_rows()
    {
        FlightClient client = _cluster.Client(0);
        byte[] whole = await ReadRangeAsync(client, Ticket("""{"kind":"range","path":"/big.bin"}"""));
        Assert.Equal(_big, whole);

        byte[] part = await ReadRangeAsync(client, Ticket("""{"kind":"range","path":"/big.bin","offset":100000,"length":250000}"""));
        Assert.Equal(_big.AsSpan(100_000, 250_000).ToArray(), part);

        byte[] clamped = await ReadRangeAsync(client, Ticket($$"""{"kind":"range","path":"/big.bin","offset":{{_big.Length - 10}},"length":1000}"""));
        Assert.Equal(_big[^10..], clamped);
        Assert.Empty(await ReadRangeAsync(client, Ticket($$"""{"kind":"range","path":"/big.bin","offset":{{_big.Length}}}""")));
        Assert.Empty(await ReadRangeAsync(client, Ticket("""{"kind":"range","path":"/empty.txt"}""")));
    }

    [Fact]
    public async Task Flight_info_splits_a_file_into_endpoints_at_its_owner_and_any_worker_answers_the_same()
    {
        FlightInfo first = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/big.bin")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        FlightInfo second = await _cluster.Client(1).GetInfo(FlightDescriptor.CreatePathDescriptor("/big.bin")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(_big.Length, first.TotalBytes);
        Assert.Equal(10, first.Endpoints.Count);
        Assert.Equal(first.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()), second.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()));
        Assert.Equal(first.Endpoints.Select(e => e.Locations.Single().Uri), second.Endpoints.Select(e => e.Locations.Single().Uri));

        var owner = _cluster.Cluster.Workers[0].Cluster!.OwnerOf("/big.bin");
        Assert.All(first.Endpoints, e => Assert.Equal($"grpc+tcp://127.0.0.1:{owner.FlightPort}", e.Locations.Single().Uri));

        using var all = new MemoryStream();
        foreach (FlightEndpoint endpoint in first.Endpoints)
        {
            var client = _cluster.Client(_cluster.Cluster.Workers.ToList().FindIndex(w => w.FlightPort == owner.FlightPort));
            all.Write(await ReadRangeAsync(client, endpoint.Ticket));
        }

        Assert.Equal(_big, all.ToArray());

        FlightInfo command = await _cluster.Client(0).GetInfo(FlightDescriptor.CreateCommandDescriptor("""{"kind":"range","path":"/big.bin","offset":10,"length":20}""")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(20, command.TotalBytes);
        Assert.Equal(1, command.TotalRecords);
    }

    [Fact]
    public async Task Poll_flight_info_answers_the_complete_info_at_once()
    {
        var raw = RawFlight.Of(_cluster, 0);
        Protocol.FlightInfo info = await raw.InfoAsync(RawFlight.PathDescriptor("/big.bin"));
        Protocol.PollInfo poll = await raw.PollAsync(RawFlight.PathDescriptor("/big.bin"));
        Assert.Equal(info, poll.Info);
        Assert.Null(poll.FlightDescriptor);
        Assert.Equal(1.0, poll.Progress);
        Assert.NotEmpty(info.Endpoint);
    }

    [Theory]
    [InlineData("""{"kind":"range","path":""", StatusCode.InvalidArgument, "not valid JSON")]
    [InlineData("""{"kind":"teleport","path":"/big.bin"}""", StatusCode.InvalidArgument, "unknown ticket kind 'teleport'")]
    [InlineData("""{"kind":"range"}""", StatusCode.InvalidArgument, "path")]
    [InlineData("""{"kind":"range","path":"/a/../b"}""", StatusCode.InvalidArgument, "Invalid path")]
    [InlineData("""{"kind":"range","path":"/missing.bin"}""", StatusCode.NotFound, "/missing.bin")]
    [InlineData("""{"kind":"range","path":"/big.bin","offset":99999999}""", StatusCode.OutOfRange, "outside")]
    [InlineData("""{"kind":"range","path":"/big.bin","offset":-1}""", StatusCode.InvalidArgument, "negative")]
    [InlineData("""{"kind":"batches","path":"/big.bin","colums":["a"]}""", StatusCode.InvalidArgument, "unknown field \"colums\"")]
    [InlineData("""{"kind":"range","path":"/big.bin","columns":["a"]}""", StatusCode.InvalidArgument, "\"columns\" belongs to batches tickets")]
    [InlineData("""{"kind":"range","path":"/big.bin","offset":"10"}""", StatusCode.InvalidArgument, "\"offset\" must be a whole number, not a string")]
    [InlineData("""{"kind":"range","path":"/big.bin","length":1.5}""", StatusCode.InvalidArgument, "\"length\" must be a whole number, not a number (1.5)")]
    [InlineData("""{"kind":"batches","path":"/big.bin","rowGroups":"0"}""", StatusCode.InvalidArgument, "\"rowGroups\" must be an array")]
    [InlineData("""{"kind":"batches","path":"/big.bin","columns":[1]}""", StatusCode.InvalidArgument, "\"columns\" must be an array of column names, not a number")]
    [InlineData("""{"kind":"chunk","path":"/big.bin"}""", StatusCode.InvalidArgument, "needs \"rowGroup\"")]
    [InlineData("""{"kind":"range","path":"/big.bin","path":"/other"}""", StatusCode.InvalidArgument, "\"path\" twice")]
    [InlineData("""{"path":"/big.bin"}""", StatusCode.InvalidArgument, "no \"kind\"")]
    [InlineData("""[1,2]""", StatusCode.InvalidArgument, "must be a JSON object, not an array")]
    [InlineData("""{"kind":"batches","path":"/big.bin"}""", StatusCode.InvalidArgument, "neither a Parquet nor an Arrow IPC file")]
    public async Task Bad_tickets_get_a_status_that_names_the_problem(string ticket, StatusCode code, string expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadRangeAsync(_cluster.Client(0), Ticket(ticket)));
        Assert.Equal(code, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Actions_are_listed_and_health_and_stat_answer_json()
    {
        FlightClient client = _cluster.Client(1);
        var types = new List<string>();
        using (var listing = client.ListActions())
        {
            while (await listing.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
                types.Add(listing.ResponseStream.Current.Type);
            }
        }

        Assert.Contains("health", types);
        Assert.Contains("stat", types);

        using (var health = client.DoAction(new FlightAction("health")))
        {
            Assert.True(await health.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
            using var json = JsonDocument.Parse(health.ResponseStream.Current.Body.ToByteArray());
            Assert.Equal(_cluster.Cluster.Workers[1].Identity.Id, json.RootElement.GetProperty("workerId").GetString());
            Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        }

        using (var stat = client.DoAction(new FlightAction("stat", ByteString.CopyFrom("""{"path":"/big.bin"}""", Encoding.UTF8))))
        {
            Assert.True(await stat.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
            using var json = JsonDocument.Parse(stat.ResponseStream.Current.Body.ToByteArray());
            Assert.Equal(_big.Length, json.RootElement.GetProperty("length").GetInt64());
        }

        var unknown = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = client.DoAction(new FlightAction("explode"));
            await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default);
        });
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Contains("unknown action 'explode'", unknown.Status.Detail, StringComparison.Ordinal);
    }
}
