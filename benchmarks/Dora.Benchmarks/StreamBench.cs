using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Benchmarks;

/// <summary>
/// P1, P3 and P4: hot reads over the page stream against their baselines in the same run: iperf3 (one TCP stream on
/// loopback), nginx with sendfile serving the same file to Range GETs, and pread of the local file.
/// </summary>
internal static class StreamBench
{
    internal const string FilePath = "/big.bin";

    /// <summary>Latency samples kept per read loop (reservoir sampling beyond that).</summary>
    private const int SamplesPerLoop = 20_000;

    public static async Task RunAsync(string work, long fileLength, TimeSpan duration, int sendfileThreshold)
    {
        string root = Path.Combine(work, "stream");
        string ufs = Path.Combine(root, "ufs");
        string local = Path.Combine(ufs, "big.bin");
        EngineBench.WriteFile(local, fileLength);
        Console.WriteLine($"P1/P3/P4: hot reads of a {fileLength >> 20} MiB file; each phase {duration.TotalSeconds:0} s; sendfile for cached frames of >= {sendfileThreshold} bytes; server and client on loopback");

        double iperfGbps = RunIperf(duration);
        using var nginx = Nginx.Start(root, ufs);
        await using LocalCluster cluster = await StartWorkerAsync(root, ufs, fileLength, sendfileThreshold);
        await using DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false });
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Port}/") };

        // Warm: every page cached and verified, and the file in the OS page cache for nginx and pread.
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < fileLength; offset += buffer.Length)
        {
            await client.ReadAsync(FilePath, offset, buffer);
        }

        await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
        await using (var warm = File.OpenRead(local))
        {
            while (await warm.ReadAsync(buffer) > 0)
            {
            }
        }

        // P1: one client, sequential 1 MiB reads: awaited one by one, and with 4 in flight on the same connection.
        double serial = await SequentialAsync(client, fileLength, window: 1);
        double windowed = await SequentialAsync(client, fileLength, window: 4);
        double iperfMiBps = iperfGbps * 1e9 / 8 / (1 << 20);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P1 hot sequential 1 MiB reads, one client", "MiB/s", "ratio to iperf3"));
        Console.WriteLine(Measure.Row("---", "---:", "---:"));
        Console.WriteLine(Measure.Row("iperf3, one TCP stream (baseline)", F(iperfMiBps), "1.00"));
        Console.WriteLine(Measure.Row("Dora page stream, 1 read in flight", F(serial), F2(serial / iperfMiBps)));
        Console.WriteLine(Measure.Row("Dora page stream, 4 reads in flight", F(windowed), F2(windowed / iperfMiBps)));

        // P2: the same hot sequential read as one Flight range ticket, read with the C# FlightClient; one pass first so
        // that both sides' code is jitted, as the page stream's was by the warm-up and P1.
        await FlightSequentialAsync(cluster.Workers[0].FlightPort, fileLength);
        double flight = await FlightSequentialAsync(cluster.Workers[0].FlightPort, fileLength);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P2 hot sequential read, one client", "MiB/s", "page stream / Flight"));
        Console.WriteLine(Measure.Row("---", "---:", "---:"));
        Console.WriteLine(Measure.Row("Arrow Flight, one range ticket (DoGet)", F(flight), "1.00"));
        Console.WriteLine(Measure.Row("Dora page stream, 4 reads in flight", F(windowed), F2(windowed / flight)));

        // P3: 16 concurrent random 1 MiB range reads.
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P3 hot random 1 MiB reads, 16 concurrent", "MiB/s", "ratio to nginx"));
        Console.WriteLine(Measure.Row("---", "---:", "---:"));
        Result nginx1m = await RandomAsync(16, 1 << 20, fileLength, duration, (offset, memory) => NginxRangeAsync(http, offset, memory));
        Result dora1m = await RandomAsync(16, 1 << 20, fileLength, duration, (offset, memory) => client.ReadAsync(FilePath, offset, memory));
        Console.WriteLine(Measure.Row("nginx sendfile, Range GET (baseline)", F(nginx1m.MiBps), "1.00"));
        Console.WriteLine(Measure.Row("Dora page stream", F(dora1m.MiBps), F2(dora1m.MiBps / nginx1m.MiBps)));

        // P4: small random positioned reads.
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P4 hot random reads", "size", "concurrent", "pread IOPS (limit)", "nginx IOPS", "Dora IOPS", "Dora/nginx", "Dora p50 / p99 µs", "nginx p50 / p99 µs"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"));
        using var handle = File.OpenHandle(local);
        foreach (int size in new[] { 4 << 10, 100 << 10 })
        {
            foreach (int concurrency in new[] { 1, 16 })
            {
                Result pread = await RandomAsync(concurrency, size, fileLength, duration, (offset, memory) => Task.FromResult(RandomAccess.Read(handle, memory.Span, offset)));
                Result viaNginx = await RandomAsync(concurrency, size, fileLength, duration, (offset, memory) => NginxRangeAsync(http, offset, memory));
                Result viaDora = await RandomAsync(concurrency, size, fileLength, duration, (offset, memory) => client.ReadAsync(FilePath, offset, memory));
                Console.WriteLine(Measure.Row("", $"{size >> 10} KiB", concurrency, F(pread.Iops), F(viaNginx.Iops), F(viaDora.Iops), F2(viaDora.Iops / viaNginx.Iops),
                    $"{F(viaDora.P50Us)} / {F(viaDora.P99Us)}", $"{F(viaNginx.P50Us)} / {F(viaNginx.P99Us)}"));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"peak RSS: nginx {nginx.PeakRssMiB():0} MiB (master + workers)");
        GCMemoryInfo gc = GC.GetGCMemoryInfo();
        Console.WriteLine($"managed heap of the benchmark process: {gc.HeapSizeBytes >> 20} MiB now, {gc.TotalCommittedBytes >> 20} MiB committed, {GC.CollectionCount(2)} gen2 collections");
    }

    /// <summary>One worker over <paramref name="ufs"/>, with an emptied cache unless <paramref name="keepCache"/>.</summary>
    internal static async Task<LocalCluster> StartWorkerAsync(string root, string ufs, long fileLength, int sendfileThreshold, ReadCheck readCheck = ReadCheck.Blocks, bool keepCache = false, Dora.Core.Security.ServerTls? tls = null)
    {
        string cache = Path.Combine(root, "cache");
        if (Directory.Exists(cache) && !keepCache)
        {
            Directory.Delete(cache, recursive: true);
        }

        return await LocalCluster.StartAsync(1, _ => new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(ufs), ConsistencyMode.Immutable)]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, "pages"), fileLength + (256L << 20))], ReadCheck = readCheck, ScrubBytesPerSecond = 0 },
            Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, "metadata") },
            HttpPort = 0,
            Tls = tls,
            Stream = new() { Port = 0, SendfileThreshold = sendfileThreshold },
            FlightPort = 0,
            ExtraEndpoints = [Dora.Flight.FlightServer.Factory(new Dora.Flight.FlightOptions())],
        }, configureLogging: null, CancellationToken.None);
    }

    /// <summary>MiB/s of reading the whole file in order with <paramref name="window"/> 1 MiB reads in flight.</summary>
    internal static async Task<double> SequentialAsync(DoraClient client, long fileLength, int window)
    {
        var buffers = Enumerable.Range(0, window).Select(_ => new byte[1 << 20]).ToArray();
        var pending = new Queue<Task<int>>();
        var watch = Stopwatch.StartNew();
        long next = 0;
        long done = 0;
        int slot = 0;
        while (done < fileLength)
        {
            while (pending.Count < window && next < fileLength)
            {
                pending.Enqueue(client.ReadAsync(FilePath, next, buffers[slot++ % window]));
                next += 1 << 20;
            }

            done += await pending.Dequeue();
        }

        return fileLength / (double)(1 << 20) / watch.Elapsed.TotalSeconds;
    }

    /// <summary>MiB/s of one DoGet of the whole file as a range ticket, read with the C# FlightClient.</summary>
    private static Task<double> FlightSequentialAsync(int port, long fileLength) =>
        FlightBench.ReadAllAsync(port, "{\"kind\":\"range\",\"path\":\"" + FilePath + "\"}", fileLength);

    private static Task<int> NginxRangeAsync(HttpClient http, long offset, Memory<byte> destination) =>
        RangeGetAsync(http, "big.bin", offset, destination);

    /// <summary>One HTTP Range GET of <paramref name="destination"/>.Length bytes at <paramref name="offset"/>, read into it; 206 expected.</summary>
    internal static async Task<int> RangeGetAsync(HttpClient http, string url, long offset, Memory<byte> destination)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + destination.Length - 1);
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.PartialContent)
        {
            throw new InvalidOperationException($"{url} answered {(int)response.StatusCode}");
        }

        await using Stream body = await response.Content.ReadAsStreamAsync();
        int total = 0;
        int read;
        while ((read = await body.ReadAsync(destination[total..])) > 0)
        {
            total += read;
        }

        return total;
    }

    internal readonly record struct Result(double Iops, double MiBps, double P50Us, double P99Us);

    /// <summary>Random reads of <paramref name="size"/> bytes by <paramref name="concurrency"/> loops for <paramref name="duration"/>.</summary>
    internal static async Task<Result> RandomAsync(int concurrency, int size, long fileLength, TimeSpan duration, Func<long, Memory<byte>, Task<int>> read)
    {
        var latencies = new List<double>[concurrency];
        long bytes = 0;
        long count = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            await Task.Yield();
            var random = new Random(worker + 1);
            var buffer = new byte[size];
            // A reservoir of latencies per loop: fast baselines (pread) would otherwise record millions of samples and
            // make the benchmark's own memory dwarf what it measures.
            var mine = latencies[worker] = new List<double>(SamplesPerLoop);
            long seen = 0;
            long stop = (long)(duration.TotalSeconds * Stopwatch.Frequency);
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetTimestamp() - start < stop)
            {
                long offset = random.NextInt64(fileLength - size) & ~4095L;
                long before = Stopwatch.GetTimestamp();
                int got = await read(offset, buffer);
                double micros = Stopwatch.GetElapsedTime(before).TotalMicroseconds;
                if (++seen <= SamplesPerLoop)
                {
                    mine.Add(micros);
                }
                else if (random.NextInt64(seen) < SamplesPerLoop)
                {
                    mine[random.Next(SamplesPerLoop)] = micros;
                }

                Interlocked.Add(ref bytes, got);
                Interlocked.Increment(ref count);
            }
        }));
        double seconds = watch.Elapsed.TotalSeconds;
        double[] all = [.. latencies.SelectMany(l => l).Order()];
        long operations = Interlocked.Read(ref count);
        return new Result(operations / seconds, bytes / (double)(1 << 20) / seconds, all[all.Length / 2], all[(int)(all.Length * 0.99)]);
    }

    /// <summary>iperf3: one TCP stream over loopback, in Gbit/s.</summary>
    private static double RunIperf(TimeSpan duration)
    {
        int port = FreePort();
        using var server = Process.Start(new ProcessStartInfo("iperf3", ["-s", "-1", "-p", port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
        Thread.Sleep(300);
        using var client = Process.Start(new ProcessStartInfo("iperf3", ["-c", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-t", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-J"]) { RedirectStandardOutput = true })!;
        string json = client.StandardOutput.ReadToEnd();
        client.WaitForExit();
        server.WaitForExit(5000);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e9;
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    private static string F2(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>nginx with sendfile, serving a folder on a free loopback port, stopped on dispose.</summary>
    internal sealed class Nginx : IDisposable
    {
        private readonly Process _process;

        private Nginx(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static Nginx Start(string root, string folder)
        {
            string prefix = Path.Combine(root, "nginx");
            Directory.CreateDirectory(Path.Combine(prefix, "logs"));
            int port = FreePort();
            string config = Path.Combine(prefix, "nginx.conf");
            File.WriteAllText(config, $$"""
                daemon off;
                worker_processes 2;
                pid {{prefix}}/nginx.pid;
                error_log {{prefix}}/logs/error.log warn;
                events { worker_connections 1024; }
                http {
                    sendfile on;
                    tcp_nopush on;
                    tcp_nodelay on;
                    access_log off;
                    keepalive_requests 1000000;
                    client_body_temp_path {{prefix}}/body;
                    proxy_temp_path {{prefix}}/proxy;
                    fastcgi_temp_path {{prefix}}/fastcgi;
                    uwsgi_temp_path {{prefix}}/uwsgi;
                    scgi_temp_path {{prefix}}/scgi;
                    server {
                        listen 127.0.0.1:{{port}};
                        root {{folder}};
                    }
                }
                """);
            var process = Process.Start(new ProcessStartInfo("nginx", ["-p", prefix, "-c", config]) { RedirectStandardError = true })!;
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    using var probe = new System.Net.Sockets.TcpClient("127.0.0.1", port);
                    return new Nginx(process, port);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    Thread.Sleep(50);
                }
            }

            throw new InvalidOperationException("nginx did not start: " + File.ReadAllText(Path.Combine(prefix, "logs", "error.log")));
        }

        /// <summary>Sum of VmHWM of this nginx's processes (master and workers).</summary>
        public double PeakRssMiB()
        {
            double total = 0;
            foreach (string status in Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "status")))
            {
                try
                {
                    string text = File.ReadAllText(status);
                    bool ours = text.Contains($"\nPid:\t{_process.Id}\n", StringComparison.Ordinal) || text.Contains($"\nPPid:\t{_process.Id}\n", StringComparison.Ordinal);
                    if (ours && text.Split('\n').FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) is { } line)
                    {
                        total += double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
                    }
                }
                catch (IOException)
                {
                    // The process went away.
                }
            }

            return total;
        }

        public void Dispose()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            _process.Dispose();
        }
    }
}
