using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Apache.Arrow.Ipc;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight.IntegrationTests;

/// <summary>
/// Damaged files and requests too big for the worker's decoding memory: every call ends with a status that names the
/// problem (never UNKNOWN or INTERNAL), and the worker goes on serving good files.
/// </summary>
public sealed class DamagedFileTests : IAsyncLifetime
{
    private const int Variants = 150;

    /// <summary>What a call about a damaged file may end with; anything else (UNKNOWN, INTERNAL) is a defect.</summary>
    private static readonly StatusCode[] Named = [StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.OutOfRange, StatusCode.FailedPrecondition];

    private FlightCluster _cluster = null!;
    private byte[] _parquet = [];
    private byte[] _arrow = [];

    public async Task InitializeAsync()
    {
        _cluster = await FlightCluster.StartAsync(1, _ => { }, new FlightOptions { MaxEndpointBytes = 1 << 20, DecodeMemoryBytes = 16 << 20 });
        _parquet = await GoodParquetAsync(rows: 3000, groups: 2);
        _arrow = await GoodArrowAsync();
        await File.WriteAllBytesAsync(Path.Combine(_cluster.UfsPath, "good.parquet"), _parquet);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static async Task<byte[]> GoodParquetAsync(int rows, int groups, int textLength = 8)
    {
        var id = new DataField<long>("id");
        var name = new DataField<string>("name", true);
        var score = new DataField<double?>("score");
        using var file = new MemoryStream();
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, name, score), file))
        {
            for (int group = 0; group < groups; group++)
            {
                long[] ids = [.. Enumerable.Range(group * rows, rows).Select(i => (long)i)];
                using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
                await rowGroup.WriteAsync<long>(id, ids);
                await rowGroup.WriteAsync(name, ids.Select(i => i % 13 == 0 ? null : (i * 7919).ToString("x", System.Globalization.CultureInfo.InvariantCulture).PadLeft(textLength, 'z')).ToArray());
                await rowGroup.WriteAsync<double>(score, ids.Select(i => i % 5 == 0 ? (double?)null : i * 0.5).ToArray());
            }
        }

        return file.ToArray();
    }

    private static async Task<byte[]> GoodArrowAsync()
    {
        var ids = new Int64Array.Builder();
        var names = new StringArray.Builder();
        for (int i = 0; i < 2000; i++)
        {
            ids.Append(i);
            names.Append($"name-{i}");
        }

        using RecordBatch batch = new RecordBatch.Builder().Append("id", false, ids.Build()).Append("name", true, names.Build()).Build();
        using var file = new MemoryStream();
        using (var writer = new ArrowFileWriter(file, batch.Schema, leaveOpen: true))
        {
            await writer.WriteRecordBatchAsync(batch);
            await writer.WriteRecordBatchAsync(batch);
            await writer.WriteEndAsync();
        }

        return file.ToArray();
    }

    /// <summary>A damaged copy: some bytes flipped anywhere, or cut short, or the footer length overwritten.</summary>
    private static byte[] Damage(byte[] good, Random random)
    {
        byte[] bytes = (byte[])good.Clone();
        switch (random.Next(4))
        {
            case 0:
                return bytes[..random.Next(1, bytes.Length)];
            case 1:
                BitConverter.GetBytes(random.Next(int.MinValue, int.MaxValue)).CopyTo(bytes, bytes.Length - (good[^1] == (byte)'1' ? 8 : 10));
                return bytes;
            default:
                for (int flips = random.Next(1, 9); flips > 0; flips--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                }

                return bytes;
        }
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("arrow")]
    public async Task Every_call_about_a_damaged_file_ends_with_a_status_that_names_the_problem(string kind)
    {
        byte[] good = kind == "parquet" ? _parquet : _arrow;
        var random = new Random(kind == "parquet" ? 1 : 2);
        FlightClient client = _cluster.Client(0);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < Variants; i++)
        {
            string path = $"/damaged/{kind}-{i:D3}.{kind}";
            string local = Path.Combine(_cluster.UfsPath, "damaged", $"{kind}-{i:D3}.{kind}");
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await File.WriteAllBytesAsync(local, Damage(good, random));
            foreach (string call in new[] { "info", "batches", "chunk" })
            {
                string outcome = await OutcomeAsync(client, call, path);
                outcomes[$"{call}: {outcome}"] = outcomes.GetValueOrDefault($"{call}: {outcome}") + 1;
                Assert.True(outcome == "ok" || System.Array.Exists(Named, code => code.ToString() == outcome.Split(':')[0]),
                    $"{call} of damaged file {i} ended with {outcome}");
            }
        }

        // The damage was seen (not every variant read back fine), and the worker still serves a good file.
        Assert.Contains(outcomes.Keys, k => k.StartsWith("batches: InvalidArgument", StringComparison.Ordinal));
        await File.WriteAllBytesAsync(Path.Combine(_cluster.UfsPath, $"good.{kind}"), good);
        Assert.Equal("ok", await OutcomeAsync(client, "batches", $"/good.{kind}"));
    }

    private static async Task<string> OutcomeAsync(FlightClient client, string call, string path)
    {
        try
        {
            switch (call)
            {
                case "info":
                    await client.GetInfo(FlightDescriptor.CreatePathDescriptor(path)).ResponseAsync.WaitAsync(TestTimeouts.Default);
                    break;
                case "chunk":
                    await DrainAsync(client, $$"""{"kind":"chunk","path":"{{path}}","rowGroup":0,"column":"name"}""");
                    break;
                default:
                    await DrainAsync(client, $$"""{"kind":"batches","path":"{{path}}"}""");
                    break;
            }

            return "ok";
        }
        catch (RpcException e)
        {
            return $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    private static async Task DrainAsync(FlightClient client, string ticket)
    {
        using var stream = client.GetStream(new FlightTicket(ByteString.CopyFromUtf8(ticket)));
        while (await stream.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
        }
    }

    [Fact]
    public async Task A_row_group_larger_than_the_decoding_memory_streams_in_batches()
    {
        // About 30 MB of text in one row group, twice the 16 MiB budget: it is sent a batch at a time, never refused.
        await File.WriteAllBytesAsync(Path.Combine(_cluster.UfsPath, "wide.parquet"), await GoodParquetAsync(rows: 300_000, groups: 1, textLength: 100));
        using var stream = _cluster.Client(0).GetStream(new FlightTicket(ByteString.CopyFromUtf8("""{"kind":"batches","path":"/wide.parquet"}""")));
        long rows = 0;
        int batches = 0;
        while (await stream.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default))
        {
            rows += stream.ResponseStream.Current.Length;
            batches++;
        }

        Assert.Equal(300_000, rows);
        Assert.True(batches > 8, $"{batches} batches");
    }

    [Fact]
    public async Task Concurrent_decodes_share_the_budget_and_all_finish()
    {
        // Each row group takes a good part of the 16 MiB budget: eight calls at once must take turns, not fail.
        await File.WriteAllBytesAsync(Path.Combine(_cluster.UfsPath, "mid.parquet"), await GoodParquetAsync(rows: 30_000, groups: 2, textLength: 20));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => DrainAsync(_cluster.Client(0), """{"kind":"batches","path":"/mid.parquet"}"""))).Within();
    }
}
