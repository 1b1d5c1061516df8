using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight.IntegrationTests;

public sealed class BatchesTicketTests : IAsyncLifetime
{
    private const int RowsPerGroup = 40_000;
    private FlightCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(2, _ => { });
        await WriteAsync(Path.Combine(_cluster.UfsPath, "trips.parquet"));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static readonly DataField<long> Id = new("id");
    private static readonly DataField<double?> Fare = new("fare");
    private static readonly DataField<string> Zone = new("zone", true);
    private static readonly DataField<DateTime> Pickup = new("pickup");
    private static readonly DataField<int> Passengers = new("passengers");
    private static readonly DataField<bool> Paid = new("paid");

    private static async Task WriteAsync(string path)
    {
        await using var file = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(Id, Fare, Zone, Pickup, Passengers, Paid), file);
        var epoch = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int group = 0; group < 3; group++)
        {
            long[] ids = [.. Enumerable.Range(group * RowsPerGroup, RowsPerGroup).Select(i => (long)i)];
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync<long>(Id, ids);
            await rowGroup.WriteAsync<double>(Fare, ids.Select(i => i % 7 == 0 ? (double?)null : (i % 997) * 0.25).ToArray());
            await rowGroup.WriteAsync(Zone, ids.Select(i => i % 11 == 0 ? null : $"zone-{i % 263}").ToArray());
            await rowGroup.WriteAsync<DateTime>(Pickup, ids.Select(i => epoch.AddSeconds(i * 37)).ToArray());
            await rowGroup.WriteAsync<int>(Passengers, ids.Select(i => (int)(i % 5) + 1).ToArray());
            await rowGroup.WriteAsync<bool>(Paid, ids.Select(i => i % 3 != 0).ToArray());
        }
    }

    /// <summary>Every value of the stream as text, row by row, and the schema's field names.</summary>
    private static async Task<(List<string> Rows, string[] Fields)> ReadAsync(FlightClient client, FlightTicket ticket)
    {
        using var call = client.GetStream(ticket);
        Schema schema = await call.ResponseStream.Schema.Within();
        var rows = new List<string>();
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            RecordBatch batch = call.ResponseStream.Current;
            for (int row = 0; row < batch.Length; row++)
            {
                rows.Add(string.Join("|", Enumerable.Range(0, batch.ColumnCount).Select(c => Text(batch.Column(c), row))));
            }
        }

        return (rows, [.. schema.FieldsList.Select(f => f.Name)]);
    }

    private static string Text(IArrowArray array, int row) => array.IsNull(row) ? "null" : array switch
    {
        Int64Array a => a.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Int32Array a => a.GetValue(row)!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
        DoubleArray a => a.GetValue(row)!.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        StringArray a => a.GetString(row),
        BooleanArray a => a.GetValue(row)!.Value ? "true" : "false",
        TimestampArray a => a.GetTimestamp(row)!.Value.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException(array.GetType().Name),
    };

    /// <summary>The same rows read directly with Parquet.Net.</summary>
    private async Task<List<string>> DirectAsync(int[] rowGroups, string[] columns)
    {
        await using var stream = File.OpenRead(Path.Combine(_cluster.UfsPath, "trips.parquet"));
        await using ParquetReader reader = await ParquetReader.CreateAsync(stream);
        var rows = new List<string>();
        foreach (int group in rowGroups)
        {
            using ParquetRowGroupReader rowGroup = reader.OpenRowGroupReader(group);
            var ids = new long[RowsPerGroup];
            var fares = new double?[RowsPerGroup];
            var zones = new string?[RowsPerGroup];
            var pickups = new DateTime[RowsPerGroup];
            var passengers = new int[RowsPerGroup];
            var paid = new bool[RowsPerGroup];
            await rowGroup.ReadAsync<long>(Id, ids);
            await rowGroup.ReadAsync<double>(Fare, fares.AsMemory());
            await rowGroup.ReadAsync(Zone, zones.AsMemory());
            await rowGroup.ReadAsync<DateTime>(Pickup, pickups);
            await rowGroup.ReadAsync<int>(Passengers, passengers);
            await rowGroup.ReadAsync<bool>(Paid, paid);
            for (int i = 0; i < RowsPerGroup; i++)
            {
                var values = new Dictionary<string, string>
                {
                    ["id"] = ids[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["fare"] = fares[i]?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "null",
                    ["zone"] = zones[i] ?? "null",
                    ["pickup"] = DateTime.SpecifyKind(pickups[i], DateTimeKind.Utc).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    ["passengers"] = passengers[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["paid"] = paid[i] ? "true" : "false",
                };
                rows.Add(string.Join("|", columns.Select(c => values[c])));
            }
        }

        return rows;
    }

    private static FlightTicket Ticket(string json) => new(ByteString.CopyFromUtf8(json));

    [Fact]
    public async Task Batches_of_chosen_row_groups_and_columns_equal_a_direct_parquet_read()
    {
        (List<string> rows, string[] fields) = await ReadAsync(_cluster.Client(0), Ticket("""{"kind":"batches","path":"/trips.parquet","rowGroups":[2,0],"columns":["zone","fare","id"]}"""));
        Assert.Equal(["zone", "fare", "id"], fields);
        Assert.Equal(await DirectAsync([2, 0], ["zone", "fare", "id"]), rows);
        Assert.Contains("null|null|0", rows);
    }

    [Fact]
    public async Task Batches_of_every_type_and_row_group_equal_a_direct_parquet_read()
    {
        (List<string> rows, string[] fields) = await ReadAsync(_cluster.Client(1), Ticket("""{"kind":"batches","path":"/trips.parquet"}"""));
        Assert.Equal(["id", "fare", "zone", "pickup", "passengers", "paid"], fields);
        Assert.Equal(await DirectAsync([0, 1, 2], fields), rows);
    }

    [Fact]
    public async Task Flight_info_of_a_parquet_file_has_its_schema_and_one_endpoint_per_row_group_at_the_owner()
    {
        FlightInfo info = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/trips.parquet")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(3 * RowsPerGroup, info.TotalRecords);
        Assert.Equal(new FileInfo(Path.Combine(_cluster.UfsPath, "trips.parquet")).Length, info.TotalBytes);
        Assert.Equal(["id", "fare", "zone", "pickup", "passengers", "paid"], info.Schema.FieldsList.Select(f => f.Name));
        Assert.True(info.Schema.GetFieldByName("fare").IsNullable);
        Assert.Equal(3, info.Endpoints.Count);
        var owner = _cluster.Cluster.Workers[0].Cluster!.OwnerOf("/trips.parquet");
        Assert.All(info.Endpoints, e => Assert.Equal($"grpc+tcp://127.0.0.1:{owner.FlightPort}", e.Locations.Single().Uri));

        var rows = new List<string>();
        FlightClient ownerClient = _cluster.Client(_cluster.Cluster.Workers.ToList().FindIndex(w => w.FlightPort == owner.FlightPort));
        foreach (FlightEndpoint endpoint in info.Endpoints)
        {
            rows.AddRange((await ReadAsync(ownerClient, endpoint.Ticket)).Rows);
        }

        Assert.Equal(3 * RowsPerGroup, rows.Count);
        Schema schema = await _cluster.Client(1).GetSchema(FlightDescriptor.CreatePathDescriptor("/trips.parquet")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(6, schema.FieldsList.Count);
    }

    [Theory]
    [InlineData("""{"kind":"batches","path":"/trips.parquet","columns":["tip"]}""", "no column 'tip'")]
    [InlineData("""{"kind":"batches","path":"/trips.parquet","rowGroups":[5]}""", "rowGroup 5 does not exist")]
    [InlineData("""{"kind":"batches","path":"/trips.parquet","columns":[]}""", "at least one column")]
    public async Task Bad_batches_tickets_are_invalid_arguments(string ticket, string expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(_cluster.Client(0), Ticket(ticket)));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.Ordinal);
    }
}
