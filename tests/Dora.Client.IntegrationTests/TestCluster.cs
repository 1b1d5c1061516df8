using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Client.IntegrationTests;

/// <summary>A cluster of real workers in this process over a temporary folder, with a client connected to it.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    public const int PageSize = 64 << 10;

    private readonly TemporaryDirectory _directory;

    private TestCluster(TemporaryDirectory directory, LocalCluster cluster, DoraClient client, CountingUnderStorage[] storages)
    {
        _directory = directory;
        Cluster = cluster;
        Client = client;
        Storages = storages;
    }

    public LocalCluster Cluster { get; }

    public DoraClient Client { get; }

    /// <summary>Each worker's view of the under storage, to gate or count its reads.</summary>
    public CountingUnderStorage[] Storages { get; }

    public string UfsPath => _directory.Combine("ufs");

    public static async Task<TestCluster> StartAsync(int workers, Action<string> populate, DoraClientOptions? clientOptions = null)
    {
        var directory = new TemporaryDirectory();
        Directory.CreateDirectory(directory.Combine("ufs"));
        populate(directory.Combine("ufs"));
        var storages = new CountingUnderStorage[workers];
        LocalCluster cluster = await LocalCluster.StartAsync(workers, i =>
        {
            storages[i] = new CountingUnderStorage(new LocalUnderStorage(directory.Combine("ufs")));
            return new WorkerOptions
            {
                Mounts = new MountTable([new Mount(DoraPath.Root, storages[i])]),
                Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(directory.Combine($"cache-{i}", "pages"), 256L << 20)], PageSize = PageSize },
                Metadata = new MetadataOptions { DatabaseDirectory = directory.Combine($"cache-{i}", "metadata") },
                HttpPort = 0,
                Stream = new() { Port = 0 },
            };
        }, configureLogging: null, CancellationToken.None).Within();
        DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, clientOptions).Within();
        return new TestCluster(directory, cluster, client, storages);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().AsTask().Within();
        await Cluster.DisposeAsync().AsTask().Within();
        _directory.Dispose();
    }
}
