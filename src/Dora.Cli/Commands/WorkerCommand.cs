using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Registry;
using Dora.Worker.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora worker</c>: one worker over a folder, registered in the cluster's registry, until stopped.</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var command = new Command("worker", "run one worker registered in the cluster's registry (etcd or a static file)");
        CliOptions.AddTo(
            command,
            CliOptions.Value("--ufs", "DIR", "folder this cluster caches at / (the same stores on every worker); without --ufs and --mount the worker adopts the mount table the running workers advertise"),
            CliOptions.Value("--worker-id", "ID", "use this id instead of the one kept in the cache directory"));
        ServiceAddress.AddOptions(command, "a crashed worker leaves the ring after this long");
        MountSettings.AddOptions(command);
        RegistrySettings.AddOptions(command, clusterFile: false);
        WorkerSettings.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        var ufs = reader.String("--ufs");
        var address = ServiceAddress.Read(reader);
        var workerId = reader.String("--worker-id");
        var registrySettings = RegistrySettings.Read(reader, allowClusterFile: false);
        var storage = WorkerSettings.Read(reader);
        var mounts = MountSettings.Read(reader, ufs, storage);

        if (workerId is not null && !WorkerRecord.IsValidId(workerId))
        {
            throw new UsageException($"option '--worker-id' must be 1 to {WorkerRecord.MaxIdLength} letters, digits, '.', '_' or '-' (was '{workerId}')");
        }

        using var loggers = LoggerFactory.Create(logging => ConsoleLogging.Configure(logging, LogLevel.Information));
        await using var registry = registrySettings.Open(address.LeaseTtl, loggers.CreateLogger("Dora.Registry"));
        if (mounts.IsEmpty)
        {
            // Without --ufs or --mount, the worker joins with the mount table the cluster's workers already serve.
            mounts = await MountSettings.AdoptAsync(registry, mounts.S3, cancellationToken).ConfigureAwait(false)
                ?? throw new UsageException("give the stores this cluster caches: --ufs DIR, or one or more --mount PREFIX=URI (no running worker advertises a mount table to adopt)");
        }

        var options = storage.ToWorkerOptions(mounts.Open()) with
        {
            HttpAddress = address.Bind,
            AdvertisedHost = address.AdvertisedHost,
            WorkerId = workerId,
            Registry = registry,
        };

        await using var worker = await WorkerHost.StartAsync(
            options, logging => ConsoleLogging.Configure(logging, LogLevel.Warning), cancellationToken).ConfigureAwait(false);
        var record = worker.Registered!;
        Console.WriteLine($"""
            Dora worker {record.Id} is serving.
              registry       {registry.Description}
              advertised     {record.Host}, HTTP port {record.HttpPort}{(record.S3Uri is null ? string.Empty : $", S3 {record.S3Uri}")}
              mounts         {string.Join("; ", mounts.Describe())}
              cache          {storage.Describe()}
            Stop with Ctrl+C or SIGTERM (it deregisters at once).
            """);
        try
        {
            await worker.RegistrationCompletion.WaitAsync(cancellationToken).ConfigureAwait(false);
            // The registration ended on its own: another worker took the id (the task faulted above) or it was closed.
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping: leaving the cluster.");
            return 0;
        }
    }
}
