using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.S3Gateway;
using Dora.S3Gateway.Auth;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Benchmarks;

/// <summary>
/// The S3 gateway against real baselines in the same run: hot random 1 MiB ranged GETs and 64 KiB GET latency against
/// nginx serving the same file with sendfile, and a cold sequential read through the gateway from an s3rver bucket
/// against reading s3rver directly. Every client is the same HttpClient code with Range headers; the gateway is
/// reached with a presigned URL, so it checks a SigV4 signature on every request, as it does for any SDK.
/// </summary>
internal static class S3GatewayBench
{
    private const string AccessKey = "bench-key";
    private const string Secret = "bench-secret-0123456789";

    public static async Task RunAsync(string work, long fileLength, TimeSpan duration, long objectBytes)
    {
        string root = Path.Combine(work, "s3gateway");
        string ufs = Path.Combine(root, "ufs");
        EngineBench.WriteFile(Path.Combine(ufs, "bucket", "big.bin"), fileLength);
        Console.WriteLine($"S3 gateway: hot ranged GETs of a {fileLength >> 20} MiB file, {duration.TotalSeconds:0} s phases, gateway and nginx on loopback; cold read of a {objectBytes >> 20} MiB s3rver object");
        using var nginx = StreamBench.Nginx.Start(root, ufs);
        await using LocalCluster cluster = await StartAsync(Path.Combine(root, "hot"), new LocalUnderStorage(ufs), fileLength);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 });
        string gatewayUrl = Presign(cluster, "bucket", "big.bin");
        string nginxUrl = $"http://127.0.0.1:{nginx.Port}/bucket/big.bin";

        // Warm: every page cached and verified; the file in the OS page cache for nginx.
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < fileLength; offset += buffer.Length)
        {
            await StreamBench.RangeGetAsync(http, gatewayUrl, offset, buffer.AsMemory(0, (int)Math.Min(buffer.Length, fileLength - offset)));
            await StreamBench.RangeGetAsync(http, nginxUrl, offset, buffer.AsMemory(0, (int)Math.Min(buffer.Length, fileLength - offset)));
        }

        await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
        Func<long, Memory<byte>, Task<int>> ViaGateway() => (offset, memory) => StreamBench.RangeGetAsync(http, gatewayUrl, offset, memory);
        Func<long, Memory<byte>, Task<int>> ViaNginx() => (offset, memory) => StreamBench.RangeGetAsync(http, nginxUrl, offset, memory);
        // Alternating rounds, medians: this machine's run-to-run noise is larger than the differences looked for.
        var nginxRuns = new List<double>();
        var gatewayRuns = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            nginxRuns.Add((await StreamBench.RandomAsync(16, 1 << 20, fileLength, duration, ViaNginx())).MiBps);
            gatewayRuns.Add((await StreamBench.RandomAsync(16, 1 << 20, fileLength, duration, ViaGateway())).MiBps);
        }

        double nginx1M = Median(nginxRuns);
        double gateway1M = Median(gatewayRuns);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("hot random 1 MiB ranged GETs, 16 concurrent, median of 3 alternating rounds", "MiB/s", "rounds", "ratio to nginx"));
        Console.WriteLine(Measure.Row("---", "---:", "---", "---:"));
        Console.WriteLine(Measure.Row("nginx sendfile (baseline)", F(nginx1M), string.Join(" ", nginxRuns.Select(F)), "1.00"));
        Console.WriteLine(Measure.Row("Dora S3 gateway", F(gateway1M), string.Join(" ", gatewayRuns.Select(F)), F2(gateway1M / nginx1M)));

        Console.WriteLine();
        Console.WriteLine(Measure.Row("hot 64 KiB GETs", "concurrent", "nginx p50 / p99 µs", "gateway p50 / p99 µs", "nginx GET/s", "gateway GET/s"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:", "---:", "---:"));
        foreach (int concurrency in new[] { 1, 16 })
        {
            StreamBench.Result viaNginx = await StreamBench.RandomAsync(concurrency, 64 << 10, fileLength, duration, ViaNginx());
            StreamBench.Result viaGateway = await StreamBench.RandomAsync(concurrency, 64 << 10, fileLength, duration, ViaGateway());
            Console.WriteLine(Measure.Row(string.Empty, concurrency.ToString(CultureInfo.InvariantCulture), $"{F(viaNginx.P50Us)} / {F(viaNginx.P99Us)}", $"{F(viaGateway.P50Us)} / {F(viaGateway.P99Us)}", F(viaNginx.Iops), F(viaGateway.Iops)));
        }

        await ColdAsync(root, http, objectBytes);
        await RedirectCostAsync(root, ufs, duration);
        Console.WriteLine();
        Console.WriteLine($"peak RSS: nginx {nginx.PeakRssMiB():0} MiB; the benchmark process (worker, gateway, clients) is reported by time -v below");
    }

    /// <summary>A cold sequential read (1 MiB ranges, 4 in flight) through the gateway from s3rver, against s3rver directly.</summary>
    private static async Task ColdAsync(string root, HttpClient http, long objectBytes)
    {
        await using S3ServerProcess server = await S3ServerProcess.StartAsync("cold");
        using AmazonS3Client direct = server.DirectClient();
        string local = Path.Combine(root, "cold.bin");
        EngineBench.WriteFile(local, objectBytes);
        await using (FileStream upload = File.OpenRead(local))
        {
            await direct.PutObjectAsync(new PutObjectRequest { BucketName = "cold", Key = "data/object.bin", InputStream = upload, UseChunkEncoding = false });
        }

        string directUrl = await direct.GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "cold", Key = "data/object.bin", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddHours(1), Protocol = Protocol.HTTP });
        double baseline = await WindowedAsync(http, directUrl, objectBytes);
        await using LocalCluster cluster = await StartAsync(Path.Combine(root, "cold"), new Dora.S3.S3UnderStorage(Dora.S3.S3Location.Parse(new Uri(server.MountUri("cold"))), new Dora.S3.S3Options { AccessKey = S3ServerProcess.AccessKey, SecretKey = S3ServerProcess.SecretKey }), objectBytes);
        string gatewayUrl = Presign(cluster, "data", "object.bin");
        double cold = await WindowedAsync(http, gatewayUrl, objectBytes);
        await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
        double hot = await WindowedAsync(http, gatewayUrl, objectBytes);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("sequential read of an s3rver object, 1 MiB ranges, 4 in flight", "MiB/s", "ratio to direct"));
        Console.WriteLine(Measure.Row("---", "---:", "---:"));
        Console.WriteLine(Measure.Row("s3rver directly (baseline)", F(baseline), "1.00"));
        Console.WriteLine(Measure.Row("Dora S3 gateway, cold (every page from s3rver)", F(cold), F2(cold / baseline)));
        Console.WriteLine(Measure.Row("Dora S3 gateway, hot", F(hot), F2(hot / baseline)));
    }

    /// <summary>
    /// What redirect mode costs on small objects: 64 KiB GETs of objects another worker owns, read through the owner by
    /// the gateway asked (the default) against answered with a 307 that the client follows to the owner.
    /// </summary>
    private static async Task RedirectCostAsync(string root, string ufs, TimeSpan duration)
    {
        string small = Path.Combine(ufs, "bucket", "small");
        for (int i = 0; i < 64; i++)
        {
            EngineBench.WriteFile(Path.Combine(small, $"o-{i:D2}.bin"), 64 << 10);
        }

        Console.WriteLine();
        Console.WriteLine(Measure.Row("64 KiB GETs of objects owned by the other worker, 1 at a time", "p50 / p99 µs", "GET/s", "ratio"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:"));
        StreamBench.Result? through = null;
        foreach (long? redirect in new long?[] { null, 0 })
        {
            string cache = Path.Combine(root, redirect is null ? "through" : "redirect", "cache");
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, recursive: true);
            }

            await using LocalCluster cluster = await LocalCluster.StartAsync(2, i => new WorkerOptions
            {
                Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(ufs), ConsistencyMode.Immutable)]),
                Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, $"pages-{i}"), 256L << 20)], ScrubBytesPerSecond = 0 },
                Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, $"metadata-{i}") },
                HttpPort = 0,
                Stream = new() { Port = 0 },
                FlightPort = 0,
                ExtraEndpoints = [S3GatewayServer.Factory(new S3GatewayOptions { Port = 0, Keys = S3KeyPairs.Of((AccessKey, Secret)), StagingDirectory = Path.Combine(cache, $"s3-uploads-{i}"), RedirectMinBytes = redirect }, new DoraClientOptions())],
            }, configureLogging: null, CancellationToken.None);
            while (cluster.Workers.Any(w => w.Cluster!.Membership.Workers.Count != 2))
            {
                await Task.Delay(20);
            }

            string other = cluster.Workers[1].Identity.Id;
            string[] urls = [.. Enumerable.Range(0, 64).Where(i => cluster.Workers[0].Cluster!.OwnerOf($"/bucket/small/o-{i:D2}.bin").Id == other).Select(i => Presign(cluster, "bucket", $"small/o-{i:D2}.bin"))];
            using var client = new HttpClient();
            foreach (string url in urls)
            {
                await client.GetByteArrayAsync(url);
            }

            int next = 0;
            StreamBench.Result result = await StreamBench.RandomAsync(1, 64 << 10, 64 << 10, duration, async (_, memory) =>
            {
                byte[] bytes = await client.GetByteArrayAsync(urls[next++ % urls.Length]);
                bytes.CopyTo(memory);
                return bytes.Length;
            });
            through ??= result;
            Console.WriteLine(Measure.Row(redirect is null ? "read through the owner (default, baseline)" : "307 to the owner (--s3-redirect 0)", $"{F(result.P50Us)} / {F(result.P99Us)}", F(result.Iops), F2(result.Iops / through.Value.Iops)));
        }
    }

    private static async Task<double> WindowedAsync(HttpClient http, string url, long length)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var pending = new Queue<Task<int>>();
        long next = 0;
        long done = 0;
        while (done < length)
        {
            while (pending.Count < 4 && next < length)
            {
                pending.Enqueue(StreamBench.RangeGetAsync(http, url, next, new byte[(int)Math.Min(1 << 20, length - next)]));
                next += 1 << 20;
            }

            done += await pending.Dequeue();
        }

        return length / (double)(1 << 20) / watch.Elapsed.TotalSeconds;
    }

    /// <summary>One worker with a gateway over <paramref name="storage"/> (mounted at /, immutable), its cache emptied.</summary>
    private static async Task<LocalCluster> StartAsync(string root, IUnderStorage storage, long bytes)
    {
        string cache = Path.Combine(root, "cache");
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }

        return await LocalCluster.StartAsync(1, _ => new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, storage, ConsistencyMode.Immutable)]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, "pages"), bytes + (256L << 20))], ScrubBytesPerSecond = 0 },
            Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, "metadata") },
            HttpPort = 0,
            Stream = new() { Port = 0 },
            FlightPort = 0,
            ExtraEndpoints = [S3GatewayServer.Factory(new S3GatewayOptions { Port = 0, Keys = S3KeyPairs.Of((AccessKey, Secret)), StagingDirectory = Path.Combine(cache, "s3-uploads") }, new DoraClientOptions())],
        }, configureLogging: null, CancellationToken.None);
    }

    private static string Presign(LocalCluster cluster, string bucket, string key)
    {
        using var client = new AmazonS3Client(new BasicAWSCredentials(AccessKey, Secret), new AmazonS3Config { ServiceURL = cluster.Workers[0].Registered?.S3Uri ?? $"http://127.0.0.1:{cluster.Workers[0].S3Port}", ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        return client.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = bucket, Key = key, Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddHours(1), Protocol = Protocol.HTTP });
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}
