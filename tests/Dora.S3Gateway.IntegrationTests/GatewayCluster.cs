using Amazon.Runtime;
using Amazon.S3;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.S3Gateway.Auth;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>Workers with S3 gateways over a temporary folder (the folder's top-level directories are the buckets), and S3 clients for each.</summary>
internal sealed class GatewayCluster : IAsyncDisposable
{
    public const string AccessKey = "dora-test-key";
    public const string Secret = "dora-test-secret-0123456789";
    public const int PageSize = 64 << 10;

    private readonly TemporaryDirectory _directory;
    private readonly List<AmazonS3Client> _clients = [];

    private GatewayCluster(TemporaryDirectory directory, LocalCluster cluster, CountingUnderStorage[] storages)
    {
        _directory = directory;
        Cluster = cluster;
        Storages = storages;
    }

    public LocalCluster Cluster { get; }

    /// <summary>Each worker's view of the under storage, to count its reads.</summary>
    public CountingUnderStorage[] Storages { get; }

    public string UfsPath => _directory.Combine("ufs");

    /// <summary>Where worker <paramref name="index"/> stages multipart uploads.</summary>
    public string StagingPath(int index) => _directory.Combine($"staging-{index}");

    public static async Task<GatewayCluster> StartAsync(int workers, Action<string> populate, TimeProvider? time = null, bool anonymous = false, long? redirectMinBytes = null, string? domain = null)
    {
        var directory = new TemporaryDirectory();
        Directory.CreateDirectory(directory.Combine("ufs"));
        populate(directory.Combine("ufs"));
        var storages = new CountingUnderStorage[workers];
        var options = new S3GatewayOptions { Port = 0, Keys = S3KeyPairs.Of((AccessKey, Secret)), AllowAnonymous = anonymous, Time = time ?? TimeProvider.System, RedirectMinBytes = redirectMinBytes, Domain = domain };
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
                FlightPort = 0,
                ExtraEndpoints = [S3GatewayServer.Factory(options with { StagingDirectory = directory.Combine($"staging-{i}") }, new DoraClientOptions())],
            };
        }, configureLogging: null, CancellationToken.None).Within();

        // Each gateway routes by its worker's view: wait until every view has every worker.
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (cluster.Workers.Any(w => w.Cluster!.Membership.Workers.Count != workers))
        {
            Assert.True(DateTime.UtcNow < deadline, "the workers' views never converged");
            await Task.Delay(20);
        }

        return new GatewayCluster(directory, cluster, storages);
    }

    /// <summary>The S3 endpoint of worker <paramref name="index"/>.</summary>
    public string Endpoint(int index) => Cluster.Workers[index].Registered!.S3Uri!;

    /// <summary>An AWS SDK client of worker <paramref name="index"/>'s gateway, with the SDK's default checksum behaviour.</summary>
    public AmazonS3Client Client(int index, string accessKey = AccessKey, string secret = Secret)
    {
        var client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secret), new AmazonS3Config
        {
            ServiceURL = Endpoint(index),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        });
        _clients.Add(client);
        return client;
    }

    /// <summary>The worker that owns <paramref name="path"/>, by the first worker's ring.</summary>
    public int OwnerIndex(string path)
    {
        string owner = Cluster.Workers[0].Cluster!.OwnerOf(path).Id;
        return Cluster.Workers.ToList().FindIndex(w => w.Identity.Id == owner);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (AmazonS3Client client in _clients)
        {
            client.Dispose();
        }

        await Cluster.DisposeAsync().AsTask().Within();
        _directory.Dispose();
    }
}
