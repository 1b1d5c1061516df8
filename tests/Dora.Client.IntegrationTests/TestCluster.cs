using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.PageStream;
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

    /// <summary>The index in <see cref="LocalCluster.Workers"/> (and <see cref="Storages"/>) of the worker with this id.</summary>
    public int IndexOf(string workerId)
    {
        for (int i = 0; i < Cluster.Workers.Count; i++)
        {
            if (Cluster.Workers[i].Identity.Id == workerId)
            {
                return i;
            }
        }

        throw new ArgumentException($"No worker {workerId}.");
    }

    public static async Task<TestCluster> StartAsync(int workers, Action<string> populate, DoraClientOptions? clientOptions = null, string? streamToken = null, int sendfileThreshold = 256 << 10, PageStreamOptions? stream = null, Dora.Core.Security.ServerTls? tls = null)
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
                Tls = tls,
                Stream = (stream ?? new PageStreamOptions()) with { Port = 0, Tokens = streamToken is null ? null : Dora.Core.Security.TokenSet.Of(streamToken), SendfileThreshold = sendfileThreshold },
            };
        }, configureLogging: null, CancellationToken.None).Within();
        clientOptions ??= new DoraClientOptions();
        if (clientOptions.UnderStorageMounts is null && clientOptions.FallbackToUnderStorage)
        {
            clientOptions = clientOptions with { UnderStorageMounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(directory.Combine("ufs")))]) };
        }

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
