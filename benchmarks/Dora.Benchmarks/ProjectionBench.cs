using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Flight;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;
using Google.Protobuf;
using Grpc.Net.Client;
using Parquet;
using Parquet.Schema;

namespace Dora.Benchmarks;

/// <summary>
/// P9: reading 2 of 20 Parquet columns through <c>chunk</c> tickets against reading the whole file through Dora (one
/// <c>range</c> ticket), both hot, over Flight on loopback.
/// </summary>
internal static class ProjectionBench
{
    public static async Task RunAsync(string work, int rowGroups, int rowsPerGroup)
    {
        string root = Path.Combine(work, "projection");
        string ufs = Path.Combine(root, "ufs");
        string file = Path.Combine(ufs, "wide.parquet");
        await WriteAsync(file, rowGroups, rowsPerGroup);
        long length = new FileInfo(file).Length;
        Console.WriteLine($"P9: {length >> 20} MiB Parquet file, 20 double columns, {rowGroups} row groups of {rowsPerGroup:N0} rows; hot, Flight on loopback");

        string cache = Path.Combine(root, "cache");
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }

        await using LocalCluster cluster = await LocalCluster.StartAsync(1, _ => new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(ufs), ConsistencyMode.Immutable)]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, "pages"), length * 2)] },
            Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, "metadata") },
            HttpPort = 0,
            Stream = new() { Port = 0 },
            FlightPort = 0,
            ExtraEndpoints = [FlightServer.Factory(new FlightOptions())],
        }, configureLogging: null, CancellationToken.None);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{cluster.Workers[0].FlightPort}");
        var client = new FlightClient(channel);

        string whole = "{\"kind\":\"range\",\"path\":\"/wide.parquet\"}";
        await ReadAsync(client, [whole]);
        var chunks = new List<string>();
        for (int group = 0; group < rowGroups; group++)
        {
            foreach (string column in new[] { "c03", "c17" })
            {
                chunks.Add($"{{\"kind\":\"chunk\",\"path\":\"/wide.parquet\",\"rowGroup\":{group},\"column\":\"{column}\"}}");
            }
        }

        await ReadAsync(client, chunks);
        var wholeTimes = new List<double>();
        var chunkTimes = new List<double>();
        long wholeBytes = 0;
        long chunkBytes = 0;
        for (int round = 0; round < 5; round++)
        {
            var watch = Stopwatch.StartNew();
            wholeBytes = await ReadAsync(client, [whole]);
            wholeTimes.Add(watch.Elapsed.TotalSeconds);
            watch.Restart();
            chunkBytes = await ReadAsync(client, chunks);
            chunkTimes.Add(watch.Elapsed.TotalSeconds);
        }

        double wholeMedian = wholeTimes.Order().ElementAt(2);
        double chunkMedian = chunkTimes.Order().ElementAt(2);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P9 hot read, median of 5", "bytes", "seconds", "speed-up"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:"));
        Console.WriteLine(Measure.Row("whole file, one range ticket (baseline)", wholeBytes, wholeMedian.ToString("0.000", CultureInfo.InvariantCulture), "1.0"));
        Console.WriteLine(Measure.Row("2 of 20 columns, chunk tickets", chunkBytes, chunkMedian.ToString("0.000", CultureInfo.InvariantCulture), (wholeMedian / chunkMedian).ToString("0.0", CultureInfo.InvariantCulture)));
    }

    private static async Task<long> ReadAsync(FlightClient client, IEnumerable<string> tickets)
    {
        long bytes = 0;
        foreach (string json in tickets)
        {
            using var call = client.GetStream(new FlightTicket(ByteString.CopyFromUtf8(json)));
            while (await call.ResponseStream.MoveNext(default))
            {
                var data = (BinaryArray)call.ResponseStream.Current.Column(1);
                for (int row = 0; row < data.Length; row++)
                {
                    bytes += data.GetBytes(row).Length;
                }
            }
        }

        return bytes;
    }

    internal static async Task WriteAsync(string path, int rowGroups, int rowsPerGroup)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path))
        {
            return;
        }

        DataField<double>[] fields = [.. Enumerable.Range(0, 20).Select(i => new DataField<double>($"c{i:D2}"))];
        var random = new Random(9);
        await using var stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream);
        var values = new double[rowsPerGroup];
        for (int group = 0; group < rowGroups; group++)
        {
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            foreach (DataField<double> field in fields)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = random.NextDouble();
                }

                await rowGroup.WriteAsync<double>(field, values);
            }
        }
    }
}
