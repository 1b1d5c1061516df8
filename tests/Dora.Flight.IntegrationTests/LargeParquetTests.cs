using Apache.Arrow;
using Apache.Arrow.Flight;
using Dora.TestSupport;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

/// <summary>Row groups and values larger than a Flight message: streamed in batches, or refused naming the row and column.</summary>
public sealed class LargeParquetTests : IAsyncLifetime
{
    private FlightCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await FlightCluster.StartAsync(1, _ => { }, new FlightOptions { MaxEndpointBytes = 1 << 20, DecodeMemoryBytes = 64L << 20 });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>Writes one row group of <paramref name="rows"/> rows: an id and a text column made by <paramref name="text"/>.</summary>
    private void WriteParquet(string name, int rows, Func<int, string> text) => WriteParquet(_cluster, name, rows, text);

    private static void WriteParquet(FlightCluster cluster, string name, int rows, Func<int, string> text)
    {
        var ids = new Int64Array.Builder();
        var texts = new StringArray.Builder();
        for (int i = 0; i < rows; i++)
        {
            ids.Append(i);
            texts.Append(text(i));
        }

        using RecordBatch batch = new RecordBatch.Builder().Append("id", false, ids.Build()).Append("note", false, texts.Build()).Build();
        using var properties = new ParquetSharp.WriterPropertiesBuilder().Compression(ParquetSharp.Compression.Uncompressed).DisableDictionary().Build();
        using var writer = new ParquetSharp.Arrow.FileWriter(Path.Combine(cluster.UfsPath, name), batch.Schema, properties);
        writer.WriteRecordBatch(batch, chunkSize: rows);
        writer.Close();
    }

    [Fact]
    public async Task A_row_group_over_256_MiB_is_one_endpoint_served_as_a_stream_of_small_batches()
    {
        const int Rows = 140_000;
        WriteParquet("large.parquet", Rows, i => new string((char)('a' + (i % 26)), 2000 + (i % 7)));
        Assert.True(new FileInfo(Path.Combine(_cluster.UfsPath, "large.parquet")).Length > 256L << 20);

        FlightInfo info = await _cluster.Client(0).GetInfo(FlightDescriptor.CreatePathDescriptor("/large.parquet")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        FlightEndpoint endpoint = Assert.Single(info.Endpoints);
        Assert.Equal(Rows, info.TotalRecords);

        long rows = 0;
        long characters = 0;
        int batches = 0;
        using (var call = _cluster.Client(0).GetStream(endpoint.Ticket))
        {
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
                RecordBatch batch = call.ResponseStream.Current;
                var ids = (Int64Array)batch.Column(0);
                var notes = (StringArray)batch.Column(1);
                for (int r = 0; r < batch.Length; r++)
                {
                    long id = ids.GetValue(r)!.Value;
                    Assert.Equal(rows + r, id);
                    string note = notes.GetString(r);
                    Assert.True(note.Length == 2000 + (id % 7) && note[0] == (char)('a' + (id % 26)), $"row {id}");
                    characters += note.Length;
                }

                rows += batch.Length;
                batches++;
            }
        }

        Assert.Equal(Rows, rows);
        Assert.Equal(Enumerable.Range(0, Rows).Sum(i => 2000L + (i % 7)), characters);
        Assert.True(batches >= 64, $"{batches} batches");
    }

    [Fact]
    public async Task A_value_larger_than_a_message_is_invalid_argument_naming_its_row_and_column()
    {
        WriteParquet("big-value.parquet", 10, i => i == 3 ? new string('x', 5 << 20) : $"small {i}");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = _cluster.Client(0).GetStream(new FlightTicket("""{"kind":"batches","path":"/big-value.parquet"}"""));
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
            }
        });
        Assert.True(error.StatusCode == StatusCode.InvalidArgument, error.Status.ToString());
        Assert.Contains("row 3 of row group 0 of '/big-value.parquet'", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("column 'note'", error.Status.Detail, StringComparison.Ordinal);

        // The rows around it, and the other column, are served.
        using var ids = _cluster.Client(0).GetStream(new FlightTicket("""{"kind":"batches","path":"/big-value.parquet","columns":["id"]}"""));
        Assert.True(await ids.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
        Assert.Equal(10, ids.ResponseStream.Current.Length);
    }

    [Fact]
    public async Task A_source_that_changes_mid_decode_is_reported_as_a_change_not_as_damage()
    {
        WriteParquet("changing.parquet", 20_000, i => $"value {i} " + new string('v', 1000));
        using var call = _cluster.Client(0).GetStream(new FlightTicket("""{"kind":"batches","path":"/changing.parquet"}"""));
        Assert.True(await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));

        // The rest of the file is read from the source, which now holds other bytes: the decoder's read fails.
        WriteParquet("changing.parquet", 30_000, i => $"other {i} " + new string('o', 1200));
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
            {
            }
        });
        Assert.True(error.StatusCode == StatusCode.Unavailable, error.Status.ToString());
        Assert.Contains("'/changing.parquet' changed while it was being read", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decodes_beyond_the_worker_wide_limit_wait_and_then_are_refused_as_resource_exhausted()
    {
        await using FlightCluster cluster = await FlightCluster.StartAsync(1, _ => { }, new FlightOptions { MaxEndpointBytes = 1 << 20, MaxConcurrentDecodes = 1, DecodeWait = TimeSpan.Zero });
        WriteParquet(cluster, "held.parquet", 20_000, i => $"value {i} " + new string('v', 1000));
        const string Ticket = """{"kind":"batches","path":"/held.parquet"}""";

        // The first call holds the only decode while its reader takes one batch and stops (the worker waits on flow control).
        var first = cluster.Client(0).GetStream(new FlightTicket(Ticket));
        Assert.True(await first.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
        var refused = await Assert.ThrowsAsync<RpcException>(() => DrainAsync(cluster, Ticket));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("1 Parquet decodes were running", refused.Status.Detail, StringComparison.Ordinal);

        // Once it ends (cancelled by its reader), the decode is free again.
        first.Dispose();
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            try
            {
                Assert.Equal(20_000, await DrainAsync(cluster, Ticket));
                break;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
    }

    private static async Task<long> DrainAsync(FlightCluster cluster, string ticket)
    {
        long rows = 0;
        using var call = cluster.Client(0).GetStream(new FlightTicket(ticket));
        while (await call.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            rows += call.ResponseStream.Current.Length;
        }

        return rows;
    }
}
