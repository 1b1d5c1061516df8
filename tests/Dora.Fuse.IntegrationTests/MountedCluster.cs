using System.Diagnostics;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Fuse.IntegrationTests;

/// <summary>
/// Workers over a temporary folder (each worker's under storage counted), a client, and the cluster mounted with
/// <see cref="DoraFuseFileSystem"/> on a temporary directory; <see cref="ShAsync"/> runs ordinary tools against it.
/// </summary>
public sealed class MountedCluster : IAsyncDisposable
{
    private readonly TemporaryDirectory _directory;

    private MountedCluster(TemporaryDirectory directory, LocalCluster cluster, List<CountingUnderStorage> storages, DoraClient client, DoraFuseFileSystem fileSystem)
    {
        _directory = directory;
        Cluster = cluster;
        Storages = storages;
        Client = client;
        FileSystem = fileSystem;
    }

    public LocalCluster Cluster { get; }

    public IReadOnlyList<CountingUnderStorage> Storages { get; }

    public DoraClient Client { get; }

    public DoraFuseFileSystem FileSystem { get; }

    public string Source => _directory.Combine("ufs");

    public string MountPoint => _directory.Combine("mnt");

    public int UfsReads => Storages.Sum(s => s.Reads);

    public static async Task<MountedCluster> StartAsync(int workers, Action<string> populate, ConsistencyMode consistency = ConsistencyMode.Ttl, TimeSpan? ttl = null)
    {
        var directory = new TemporaryDirectory("fuse");
        Directory.CreateDirectory(directory.Combine("ufs"));
        Directory.CreateDirectory(directory.Combine("mnt"));
        populate(directory.Combine("ufs"));
        var storages = new List<CountingUnderStorage>();
        LocalCluster cluster = await LocalCluster.StartAsync(workers, i =>
        {
            var storage = new CountingUnderStorage(new LocalUnderStorage(directory.Combine("ufs")));
            storages.Add(storage);
            return new WorkerOptions
            {
                Mounts = new MountTable([new Mount(DoraPath.Root, storage, ConsistencyMode.Immutable)]),
                Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(directory.Combine($"cache-{i}", "pages"), 2L << 30)] },
                Metadata = new MetadataOptions { DatabaseDirectory = directory.Combine($"cache-{i}", "metadata") },
                HttpPort = 0,
                Stream = new() { Port = 0 },
            };
        }, configureLogging: null, CancellationToken.None).Within();
        DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
        var fileSystem = new DoraFuseFileSystem(client, new FuseMountOptions { MountPoint = directory.Combine("mnt"), Consistency = consistency, Ttl = ttl ?? TimeSpan.FromSeconds(60) }, NullLogger.Instance);
        fileSystem.Start();
        return new MountedCluster(directory, cluster, storages, client, fileSystem);
    }

    /// <summary>Runs <c>/bin/sh -c</c> in the mount point; returns the exit code, standard output and standard error.</summary>
    public async Task<(int ExitCode, string Output, string Error)> ShAsync(string command, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", command])
        {
            WorkingDirectory = MountPoint,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["SRC"] = Source;
        start.Environment["MNT"] = MountPoint;
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{command}' did not finish: {await error}");
        }

        return (process.ExitCode, await output, await error);
    }

    /// <summary>Runs a command that must succeed; returns its output.</summary>
    public async Task<string> MustAsync(string command, TimeSpan? timeout = null)
    {
        var (exitCode, output, error) = await ShAsync(command, timeout);
        Assert.True(exitCode == 0, $"'{command}' exited {exitCode}: {error}");
        return output;
    }

    public static bool IsMounted(string mountPoint) => FuseMounts.IsDoraMount(mountPoint);

    public async ValueTask DisposeAsync()
    {
        await FileSystem.DisposeAsync();
        await Client.DisposeAsync();
        await Cluster.DisposeAsync().AsTask().Within();
        _directory.Dispose();
    }
}
