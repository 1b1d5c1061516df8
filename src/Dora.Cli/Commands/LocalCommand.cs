using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Cli.Samples;
using Dora.Core.Hashing;
using Dora.Core.Mounts;
using Dora.Registry;
using Dora.Worker.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary>
/// <c>dora local</c>: a whole cluster in this process over a folder (sample data when none is given): an in-process
/// registry, several workers and a scheduler, described in <c>.dora/cluster.json</c> for the client commands, until Ctrl+C.
/// </summary>
internal static class LocalCommand
{
    public static Command Create()
    {
        var command = new Command("local", "run a whole cluster over a folder: workers and a scheduler (sample data when none is given)");
        CliOptions.AddTo(
            command,
            CliOptions.Value("--ufs", "DIR", "folder to serve at / (default, without --mount: a generated sample dataset in .dora/sample)"),
            CliOptions.Value("--workers", "N", "workers to run, 1 to 16 (default 2); worker i keeps its cache in <cache-dir>/worker-i"),
            CliOptions.Value("--scheduler-port", "N", "the scheduler's REST port (default 8818, else the next free one; 0: any free port); its job store is <cache-dir>/scheduler"));
        MountSettings.AddOptions(command);
        WorkerSettings.AddOptions(command, firstWorker: true);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        var ufs = reader.String("--ufs");
        var workerCount = reader.Int("--workers", 2, 1, 16);
        var schedulerPort = reader.Int("--scheduler-port", Scheduler.SchedulerOptions.DefaultPort, 0, 65535);
        var settings = WorkerSettings.Read(reader);
        bool sample = ufs is null && reader.Strings("--mount").Count == 0;
        if (sample)
        {
            ufs = Path.GetFullPath(Path.Combine(".dora", "sample"));
            Console.WriteLine($"Generating the sample dataset in {ufs} ...");
            await SampleDataset.EnsureAsync(ufs, cancellationToken).ConfigureAwait(false);
        }

        var mounts = MountSettings.Read(reader, ufs, settings);

        LocalCluster started;
        try
        {
            started = await LocalCluster.StartAsync(
                workerCount,
                i => (settings with { CacheDirectory = Path.Combine(settings.CacheDirectory, $"worker-{i}") }).ToWorkerOptions(mounts.Open(), s3Port: S3PortOf(settings, i)),
                logging => ConsoleLogging.Configure(logging, LogLevel.Warning),
                cancellationToken,
                reservedPorts: schedulerPort == 0 ? null : [schedulerPort]).ConfigureAwait(false);
        }
        catch (Worker.Pages.CacheDirectoryInUseException e)
        {
            throw new IOException($"another dora local (or a worker) is already running with its cache in {settings.CacheDirectory} ({e.Directory} is locked); stop it, or give this one another --cache-dir", e);
        }

        await using var cluster = started;
        await using var scheduler = await Scheduler.SchedulerHost.StartAsync(
            new Scheduler.SchedulerOptions
            {
                Directory = Path.Combine(settings.CacheDirectory, "scheduler"),
                Bind = System.Net.IPAddress.Loopback,
                Port = schedulerPort == 0 ? 0 : LocalCluster.FindFreePort(System.Net.IPAddress.Loopback, schedulerPort),
                AdvertisedHost = cluster.Workers[0].Registered!.Host,
                WorkerToken = settings.Tokens?.Current,
                Tokens = settings.Tokens,
                Tls = settings.Tls.Server,
                WorkerTls = settings.Tls.Client,
                OpenMetrics = settings.OpenMetrics,
            },
            cluster.Registry,
            logging: null,
            time: null,
            cancellationToken).ConfigureAwait(false);
        var clusterFile = Path.GetFullPath(RegistrySettings.ClusterFile);
        var schedulerRecord = await cluster.Registry.ReadSchedulerAsync(cancellationToken).ConfigureAwait(false);
        await cluster.WriteClusterFileAsync(clusterFile, string.Join("; ", mounts.Describe()), PlacementPolicies.DefaultName, schedulerRecord, cancellationToken).ConfigureAwait(false);
        try
        {
            PrintBanner(cluster, mounts, sample, settings, clusterFile, scheduler.Url);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine("Stopping.");
            }
        }
        finally
        {
            // A stale cluster file would send client commands to ports nobody serves.
            File.Delete(clusterFile);
        }

        return 0;
    }

    /// <summary>The first worker's S3 port is --s3-port (or the next free one after it); the others take any free port.</summary>
    private static int S3PortOf(WorkerSettings settings, int worker) =>
        worker == 0 && settings.S3.Port != 0 ? LocalCluster.FindFreePort(System.Net.IPAddress.Loopback, settings.S3.Port) : 0;

    private static void PrintBanner(LocalCluster cluster, MountSettings mounts, bool sample, WorkerSettings settings, string clusterFile, string schedulerUrl)
    {
        var example = sample ? "/trips/2024/part-0.parquet" : "/<file>";
        var http = cluster.Workers[0].HttpAddress.ToString().TrimEnd('/');
        Console.WriteLine($"Dora local is running: {cluster.Workers.Count} workers.");
        foreach (string mount in mounts.Describe())
        {
            Console.WriteLine($"  mount          {mount}{(sample ? " (sample data)" : string.Empty)}");
        }

        Console.WriteLine($"  cache          {settings.Describe()}, per worker");
        Console.WriteLine($"  consistency    {settings.Consistency.ToString().ToLowerInvariant()}{(settings.Consistency == ConsistencyMode.Ttl ? $" ({settings.Ttl.TotalSeconds:0} s)" : string.Empty)}");
        Console.WriteLine(settings.S3.Enabled
            ? $"  s3 gateway     every worker (path style: http://HOST:PORT/BUCKET/KEY; buckets are the top-level directories; docs/s3.md)"
            : "  s3 gateway     off: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --s3-credentials FILE) to serve S3");
        foreach (var worker in cluster.Workers)
        {
            WorkerRecord record = worker.Registered!;
            Console.WriteLine($"  worker {worker.Identity.Id}  http {record.HttpUri}  stream {record.StreamUri}  flight {record.FlightUri}{(record.S3Uri is null ? string.Empty : $"  s3 {record.S3Uri}")}");
        }

        Console.WriteLine($"""
              scheduler      {schedulerUrl}  (REST: {schedulerUrl}/api/v1/jobs)
              cluster file   {clusterFile}
            Try (from this directory):
              ./dora workers
              ./dora ls /
              ./dora stat {example}
              ./dora cat {example} --length 64 | xxd
              ./dora load /trips --wait
              curl -s -r 0-1023 '{http}/v1/data?path={example}' | xxd | head
            Press Ctrl+C to stop.
            """);
    }
}
