using System.Net;
using Dora.Cli.CommandLine;
using Dora.Scheduler;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora scheduler</c>: the cluster's scheduler (jobs, REST API), advertised in the registry, until stopped.</summary>
internal static class SchedulerCommand
{
    public const string Usage = """
        dora scheduler --registry ADDRESS --dir DIR [options]
          --dir DIR            the job store (RocksDB); jobs running when the scheduler stops resume from it
          --port N             REST port (default 8818; 0: any free port)
          --bind ADDRESS       address the API listens on (default 127.0.0.1; 0.0.0.0 for other machines)
          --host NAME          host name advertised to clients (default: the bind address, or this machine's name)
          --max-running-jobs N jobs running at once (default 4); more wait queued
          --tasks-per-worker N load tasks in flight on each worker (default 8)
          --retention-days N   how long finished jobs are kept (default 7)
          --token TOKEN        the workers' page stream token, when they require one (default: $DORA_TOKEN)
          --lease-ttl SECONDS  etcd lease TTL of the scheduler's entry: a crashed scheduler's entry lapses after it (default 15)

        """ + RegistrySettings.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var reader = new ArgumentReader(arguments, new HashSet<string>());
        string directory = reader.String("--dir") ?? throw new UsageException("option '--dir' is required: the directory of the scheduler's job store");
        int port = reader.Int("--port", SchedulerOptions.DefaultPort, 0, 65535);
        string bindText = reader.String("--bind") ?? "127.0.0.1";
        string? host = reader.String("--host");
        int running = reader.Int("--max-running-jobs", 4, 1, 1000);
        int perWorker = reader.Int("--tasks-per-worker", 8, 1, 1024);
        int retention = reader.Int("--retention-days", 7, 1, 3650);
        string? token = reader.String("--token") ?? Environment.GetEnvironmentVariable("DORA_TOKEN");
        var leaseTtl = TimeSpan.FromSeconds(reader.Int("--lease-ttl", 15, 2, 3600));
        var registrySettings = RegistrySettings.Read(reader, allowClusterFile: false);
        reader.EnsureAllRead();
        if (!IPAddress.TryParse(bindText, out IPAddress? bind))
        {
            throw new UsageException($"option '--bind' must be an IP address such as 127.0.0.1 or 0.0.0.0 (was '{bindText}')");
        }

        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        await using var registry = registrySettings.Open(leaseTtl, loggers.CreateLogger("Dora.Registry"));
        await using var scheduler = await SchedulerHost.StartAsync(
            new SchedulerOptions
            {
                Directory = Path.GetFullPath(directory),
                Port = port,
                Bind = bind,
                AdvertisedHost = host,
                MaxRunningJobs = running,
                TasksPerWorker = perWorker,
                Retention = TimeSpan.FromDays(retention),
                WorkerToken = token,
            },
            registry,
            loggers,
            time: null,
            cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"""
            Dora scheduler is serving at {scheduler.Url} (REST: {scheduler.Url}/api/v1/jobs).
              registry       {registry.Description}
              job store      {Path.GetFullPath(directory)}
            Stop with Ctrl+C or SIGTERM (running jobs resume at the next start).
            """);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping: running jobs will resume at the next start.");
        }

        return 0;
    }
}
