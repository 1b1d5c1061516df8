using Apache.Arrow.Flight.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;
using Grpc.Net.Client;

namespace Dora.Flight.IntegrationTests;

/// <summary>Workers with Flight endpoints on free loopback ports over a temporary folder, and Flight clients for each.</summary>
internal sealed class FlightCluster : IAsyncDisposable
{
    public const int PageSize = 64 << 10;

    private readonly TemporaryDirectory _directory;
    private readonly List<GrpcChannel> _channels = [];

    private FlightCluster(TemporaryDirectory directory, LocalCluster cluster)
    {
        _directory = directory;
        Cluster = cluster;
    }

    public LocalCluster Cluster { get; }

    public string UfsPath => _directory.Combine("ufs");

    public static async Task<FlightCluster> StartAsync(int workers, Action<string> populate, FlightOptions? flight = null, Dora.Core.Security.ServerTls? tls = null)
    {
        var directory = new TemporaryDirectory();
        Directory.CreateDirectory(directory.Combine("ufs"));
        populate(directory.Combine("ufs"));
        LocalCluster cluster = await LocalCluster.StartAsync(workers, i => new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(directory.Combine("ufs")))]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(directory.Combine($"cache-{i}", "pages"), 256L << 20)], PageSize = PageSize },
            Metadata = new MetadataOptions { DatabaseDirectory = directory.Combine($"cache-{i}", "metadata") },
            HttpPort = 0,
            Stream = new() { Port = 0 },
            FlightPort = 0,
            Tls = tls,
            ExtraEndpoints = [FlightServer.Factory(flight ?? new FlightOptions { MaxEndpointBytes = 1 << 20 })],
        }, configureLogging: null, CancellationToken.None).Within();

        // Each worker routes by its own view; wait until every view has every worker, as a settled cluster would.
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (cluster.Workers.Any(w => w.Cluster!.Membership.Workers.Count != workers))
        {
            Assert.True(DateTime.UtcNow < deadline, "the workers' views never converged");
            await Task.Delay(20);
        }

        return new FlightCluster(directory, cluster);
    }

    /// <summary>A Flight client of worker <paramref name="index"/>.</summary>
    public FlightClient Client(int index) => new(Channel(index));

    /// <summary>A gRPC channel to worker <paramref name="index"/>'s Flight port, closed with the cluster.</summary>
    public GrpcChannel Channel(int index)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{Cluster.Workers[index].FlightPort}");
        _channels.Add(channel);
        return channel;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }

        await Cluster.DisposeAsync().AsTask().Within();
        _directory.Dispose();
    }
}
