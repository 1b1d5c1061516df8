using System.Net;
using Dora.Cli.CommandLine;
using Dora.Registry;
using Dora.Worker.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora worker</c>: one worker over a folder, registered in the cluster's registry, until stopped.</summary>
internal static class WorkerCommand
{
    public const string Usage = """
        dora worker (--ufs DIR | --mount PREFIX=URI ...) --registry ADDRESS [options]
          --ufs DIR            folder this cluster caches at / (the same stores on every worker); without --ufs
                               and --mount the worker adopts the mount table the running workers advertise
          --bind ADDRESS       address the endpoints listen on (default 127.0.0.1; 0.0.0.0 for other machines)
          --host NAME          host name advertised to clients (default: the bind address, or this machine's name)
          --worker-id ID       use this id instead of the one kept in the cache directory
          --lease-ttl SECONDS  etcd lease TTL: a crashed worker leaves the ring after this long (default 15)

        """ + MountSettings.Usage + RegistrySettings.Usage + WorkerSettings.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var reader = new ArgumentReader(arguments, new HashSet<string>());
        var ufs = reader.String("--ufs");
        var bindText = reader.String("--bind") ?? "127.0.0.1";
        var advertised = reader.String("--host");
        var workerId = reader.String("--worker-id");
        var leaseTtl = TimeSpan.FromSeconds(reader.Int("--lease-ttl", 15, 2, 3600));
        var registrySettings = RegistrySettings.Read(reader, allowClusterFile: false);
        var storage = WorkerSettings.Read(reader);
        var mounts = MountSettings.Read(reader, ufs, storage);
        reader.EnsureAllRead();

        if (!IPAddress.TryParse(bindText, out var bind))
        {
            throw new UsageException($"option '--bind' must be an IP address such as 127.0.0.1 or 0.0.0.0 (was '{bindText}')");
        }

        if (workerId is not null && !WorkerRecord.IsValidId(workerId))
        {
            throw new UsageException($"option '--worker-id' must be 1 to {WorkerRecord.MaxIdLength} letters, digits, '.', '_' or '-' (was '{workerId}')");
        }

        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        await using var registry = registrySettings.Open(leaseTtl, loggers.CreateLogger("Dora.Registry"));
        if (mounts.IsEmpty)
        {
            // Without --ufs or --mount, the worker joins with the mount table the cluster's workers already serve.
            mounts = await MountSettings.AdoptAsync(registry, mounts.S3, cancellationToken).ConfigureAwait(false)
                ?? throw new UsageException("give the stores this cluster caches: --ufs DIR, or one or more --mount PREFIX=URI (no running worker advertises a mount table to adopt)");
        }

        var options = storage.ToWorkerOptions(mounts.Open()) with
        {
            HttpAddress = bind,
            AdvertisedHost = advertised,
            WorkerId = workerId,
            Registry = registry,
        };

        await using var worker = await WorkerHost.StartAsync(
            options, logging => logging.SetMinimumLevel(LogLevel.Warning), cancellationToken).ConfigureAwait(false);
        var record = worker.Registered!;
        Console.WriteLine($"""
            Dora worker {record.Id} is serving.
              registry       {registry.Description}
              advertised     {record.Host}, HTTP port {record.HttpPort}
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
