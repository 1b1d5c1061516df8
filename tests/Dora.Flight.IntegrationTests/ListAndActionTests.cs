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
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

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
        Assert.Equal(3, (await ListAsync(string.Empty)).Count);
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
