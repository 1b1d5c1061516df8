using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Scheduler;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora scheduler</c>: the cluster's scheduler (jobs, REST API), advertised in the registry, until stopped.</summary>
internal static class SchedulerCommand
{
    public static Command Create()
    {
        var command = new Command("scheduler", "run the cluster's scheduler (load jobs, REST API on port 8818)");
        CliOptions.AddTo(
            command,
            CliOptions.Value("--dir", "DIR", "the job store (RocksDB); jobs running when the scheduler stops resume from it (required)"),
            CliOptions.Value("--port", "N", "REST port (default 8818; 0: any free port)"),
            CliOptions.Value("--max-running-jobs", "N", "jobs running at once (default 4); more wait queued"),
            CliOptions.Value("--tasks-per-worker", "N", "load tasks in flight on each worker (default 8)"),
            CliOptions.Value("--retention-days", "N", "how long finished jobs are kept (default 7)"));
        TokenOption.AddTo(command, "require one of these tokens from REST clients, and present the first to the workers (default: none)");
        TlsOptions.AddServerOptions(command);
        CliOptions.AddTo(command, CliOptions.Flag(WorkerSettings.OpenMetricsOption, "serve /metrics without a token even when tokens are required"));
        ServiceAddress.AddOptions(command, "a crashed scheduler's entry lapses after this long");
        RegistrySettings.AddOptions(command, clusterFile: false);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string directory = reader.String("--dir") ?? throw new UsageException("option '--dir' is required: the directory of the scheduler's job store");
        int port = reader.Int("--port", SchedulerOptions.DefaultPort, 0, 65535);
        ServiceAddress address = ServiceAddress.Read(reader);
        int running = reader.Int("--max-running-jobs", 4, 1, 1000);
        int perWorker = reader.Int("--tasks-per-worker", 8, 1, 1024);
        int retention = reader.Int("--retention-days", 7, 1, 3650);
        Dora.Core.Security.TokenSet? tokens = TokenOption.Read(reader);
        TlsOptions tls = TlsOptions.Read(reader, server: true);
        var registrySettings = RegistrySettings.Read(reader, allowClusterFile: false);
        using var loggers = LoggerFactory.Create(logging => ConsoleLogging.Configure(logging, LogLevel.Information));
        await using var registry = registrySettings.Open(address.LeaseTtl, loggers.CreateLogger("Dora.Registry"));
        await using var scheduler = await SchedulerHost.StartAsync(
            new SchedulerOptions
            {
                Directory = Path.GetFullPath(directory),
                Port = port,
                Bind = address.Bind,
                AdvertisedHost = address.AdvertisedHost,
                MaxRunningJobs = running,
                TasksPerWorker = perWorker,
                Retention = TimeSpan.FromDays(retention),
                WorkerToken = tokens?.Current,
                Tokens = tokens,
                Tls = tls.Server,
                WorkerTls = tls.Client,
                OpenMetrics = reader.Flag(WorkerSettings.OpenMetricsOption),
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
