using System.Diagnostics;
using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.S3;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Benchmarks;

/// <summary>
/// Reading an object from an S3-compatible server (s3rver on loopback) through Dora, cold (every page fetched from the
/// server) and hot (every page cached), against reading the same object directly with AWSSDK.S3 in the same run.
/// </summary>
internal static class S3Bench
{
    private const string Key = "bench/object.bin";

    public static async Task RunAsync(string work, long objectBytes, int rounds)
    {
        await using S3ServerProcess server = await S3ServerProcess.StartAsync("bench");
        using AmazonS3Client direct = server.DirectClient();
        string local = Path.Combine(work, "s3", "object.bin");
        EngineBench.WriteFile(local, objectBytes);
        await using (FileStream upload = File.OpenRead(local))
        {
            await direct.PutObjectAsync(new PutObjectRequest { BucketName = "bench", Key = Key, InputStream = upload, UseChunkEncoding = false });
        }

        Console.WriteLine($"S3: a {objectBytes >> 20} MiB object in s3rver on loopback; {rounds} rounds, median; sequential 1 MiB reads, 4 in flight");
        var directRuns = new List<double>();
        var coldRuns = new List<double>();
        var hotRuns = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            directRuns.Add(await DirectAsync(direct, objectBytes));
            string cache = Path.Combine(work, "s3", "cache");
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }

            await using LocalCluster cluster = await LocalCluster.StartAsync(1, _ => new WorkerOptions
            {
                Mounts = new MountTable([new Mount(DoraPath.Root, new S3UnderStorage(Dora.S3.S3Location.Parse(new Uri(server.MountUri("bench"))),
                    new S3Options { AccessKey = S3ServerProcess.AccessKey, SecretKey = S3ServerProcess.SecretKey }), ConsistencyMode.Immutable)]),
                Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, "pages"), objectBytes * 2)] },
                Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, "metadata") },
                HttpPort = 0,
                Stream = new() { Port = 0 },
            }, configureLogging: null, CancellationToken.None);
            await using DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false });
            coldRuns.Add(await ThroughDoraAsync(client, objectBytes));
            await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
            hotRuns.Add(await ThroughDoraAsync(client, objectBytes));
        }

        double baseline = Median(directRuns);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("S3 read", "MiB/s (median)", "runs", "ratio to direct"));
        Console.WriteLine(Measure.Row("---", "---:", "---", "---:"));
        Console.WriteLine(Measure.Row("AWSSDK.S3 ranged GETs, direct (baseline)", F(baseline), string.Join(" ", directRuns.Select(F)), "1.00"));
        Console.WriteLine(Measure.Row("Dora, cold (every page from the server)", F(Median(coldRuns)), string.Join(" ", coldRuns.Select(F)), (Median(coldRuns) / baseline).ToString("0.00", CultureInfo.InvariantCulture)));
        Console.WriteLine(Measure.Row("Dora, hot (every page cached)", F(Median(hotRuns)), string.Join(" ", hotRuns.Select(F)), (Median(hotRuns) / baseline).ToString("0.00", CultureInfo.InvariantCulture)));
    }

    /// <summary>The object read with 1 MiB ranged GETs, 4 in flight, as a reader without Dora would.</summary>
    private static async Task<double> DirectAsync(AmazonS3Client s3, long length)
    {
        var watch = Stopwatch.StartNew();
        await ReadWindowedAsync(length, async (offset, buffer) =>
        {
            using GetObjectResponse response = await s3.GetObjectAsync(new GetObjectRequest
            {
                BucketName = "bench",
                Key = Key,
                ByteRange = new ByteRange(offset, offset + buffer.Length - 1),
            });
            int total = 0;
            int read;
            while ((read = await response.ResponseStream.ReadAsync(buffer.AsMemory(total))) > 0)
            {
                total += read;
            }

            return total;
        });
        return length / (double)(1 << 20) / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> ThroughDoraAsync(DoraClient client, long length)
    {
        var watch = Stopwatch.StartNew();
        await ReadWindowedAsync(length, (offset, buffer) => client.ReadAsync("/" + Key, offset, buffer));
        return length / (double)(1 << 20) / watch.Elapsed.TotalSeconds;
    }

    private static async Task ReadWindowedAsync(long length, Func<long, byte[], Task<int>> read)
    {
        const int Window = 4;
        var pending = new Queue<Task<int>>();
        long next = 0;
        long done = 0;
        while (done < length)
        {
            while (pending.Count < Window && next < length)
            {
                pending.Enqueue(read(next, new byte[(int)Math.Min(1 << 20, length - next)]));
                next += 1 << 20;
            }

            done += await pending.Dequeue();
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);
}
