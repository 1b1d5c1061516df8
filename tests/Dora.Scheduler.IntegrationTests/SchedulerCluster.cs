using System.Net.Http.Json;
using System.Text;
using Dora.Client;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Core.UnderStorage;
using Dora.Scheduler.Jobs;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Scheduler.IntegrationTests;

/// <summary>
/// Workers over a temporary folder (64 KiB pages, each worker's under storage countable and gateable), a scheduler on
/// a free loopback port with its REST API, and a client that checks the cache through the workers.
/// </summary>
internal sealed class SchedulerCluster : IAsyncDisposable
{
    public const int PageSize = 64 << 10;

    private readonly TemporaryDirectory _directory;

    private SchedulerCluster(TemporaryDirectory directory, LocalCluster cluster, List<CountingUnderStorage> storages, DoraClient client)
    {
        _directory = directory;
        Cluster = cluster;
        Storages = storages;
        Client = client;
    }

    public LocalCluster Cluster { get; }

    /// <summary>Each worker's under storage: gate it to hold loads in flight.</summary>
    public IReadOnlyList<CountingUnderStorage> Storages { get; }

    public DoraClient Client { get; }

    public SchedulerHost? Scheduler { get; private set; }

    public HttpClient Http { get; private set; } = null!;

    public string UfsPath => _directory.Combine("ufs");

    public string SchedulerDirectory => _directory.Combine("scheduler");

    public string CacheDirectory(int worker) => _directory.Combine($"cache-{worker}", "pages");

    public static async Task<SchedulerCluster> StartAsync(int workers, Action<string> populate, TimeProvider? time = null, Func<SchedulerOptions, SchedulerOptions>? configure = null)
    {
        var directory = new TemporaryDirectory();
        Directory.CreateDirectory(directory.Combine("ufs"));
        populate(directory.Combine("ufs"));
        var storages = new List<CountingUnderStorage>();
        var warnings = new CapturedWarnings();
        LocalCluster cluster = await LocalCluster.StartAsync(workers, i =>
        {
            var storage = new CountingUnderStorage(new LocalUnderStorage(directory.Combine("ufs")));
            storages.Add(storage);
            return new WorkerOptions
            {
                Mounts = new MountTable([new Mount(DoraPath.Root, storage, ConsistencyMode.Immutable)]),
                Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(directory.Combine($"cache-{i}", "pages"), 512L << 20)], PageSize = PageSize },
                Metadata = new MetadataOptions { DatabaseDirectory = directory.Combine($"cache-{i}", "metadata") },
                HttpPort = 0,
                Stream = new() { Port = 0 },
            };
        }, warnings.AddTo, CancellationToken.None).Within();
        DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
        var result = new SchedulerCluster(directory, cluster, storages, client) { _warnings = warnings };
        result._configure = configure ?? (options => options);
        await result.StartSchedulerAsync(time);
        return result;
    }

    private Func<SchedulerOptions, SchedulerOptions> _configure = options => options;

    private CapturedWarnings _warnings = new();

    public async Task StartSchedulerAsync(TimeProvider? time = null)
    {
        Scheduler = await SchedulerHost.StartAsync(
            _configure(new SchedulerOptions { Directory = SchedulerDirectory, Port = 0, TaskRetryWindow = TimeSpan.FromSeconds(20) }),
            Cluster.Registry,
            logging: null,
            time).Within();
        Http?.Dispose();
        Http = new HttpClient { BaseAddress = new Uri(Scheduler.Url), Timeout = TestTimeouts.Default };
    }

    public async Task StopSchedulerAsync()
    {
        await Scheduler!.DisposeAsync().AsTask().Within();
        Scheduler = null;
    }

    public async Task<HttpResponseMessage> PostJobAsync(string json) =>
        await Http.PostAsync("api/v1/jobs", new StringContent(json, Encoding.UTF8, "application/json")).Within();

    /// <summary>Submits a job and returns it (asserting 202).</summary>
    public async Task<JobDocument> SubmitAsync(string json)
    {
        using HttpResponseMessage response = await PostJobAsync(json);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        return JobDocument.FromJson(Encoding.UTF8.GetBytes(body))!;
    }

    public async Task<JobDocument> GetAsync(string id) =>
        (await Http.GetFromJsonAsync($"api/v1/jobs/{id}", SchedulerJson.Default.JobDocument).Within())!;

    /// <summary>Polls the job until it ends.</summary>
    public async Task<JobDocument> WaitAsync(string id, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TestTimeouts.Default);
        while (true)
        {
            JobDocument job = await GetAsync(id);
            if (job.State.IsFinished())
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {id} did not end: {job.State}, {job.Progress}");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds for the job.</summary>
    public async Task<JobDocument> WaitUntilAsync(string id, Func<JobDocument, bool> condition)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            JobDocument job = await GetAsync(id);
            if (condition(job))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {id} never got there: {job.State}, {job.Progress}");
            await Task.Delay(20);
        }
    }

    /// <summary>The bytes of a file its owner reports cached (asked of the worker, not the scheduler).</summary>
    public async Task<long> CachedBytesAsync(string path)
    {
        StatReply status = await Client.StatAsync(path).Within();
        return status.CachedBytes;
    }

    /// <summary>
    /// Asserts that the owner reports the whole file cached. When it does not, the message says what every running
    /// worker holds of it (status version, cached bytes, loads still in flight, and the cached bytes once its page
    /// writes are done), so a failure tells a routing slip from a lost page write or a changed version.
    /// </summary>
    public async Task AssertCachedAsync(string path, long expected)
    {
        long cached = await CachedBytesAsync(path);
        if (cached == expected)
        {
            return;
        }

        var report = new StringBuilder($"'{path}': the owner {Client.Cluster.OwnerOf(path).Id} reports {cached} bytes cached, expected {expected}.");
        foreach (WorkerHost worker in Cluster.Workers.Where(w => w.Registered is not null))
        {
            var doraPath = DoraPath.Parse(path);
            var before = await worker.Engine.GetInfoAsync(doraPath, CancellationToken.None);
            int inFlight = worker.Engine.Pages.LoadsInFlight;
            await worker.Engine.Pages.WhenIdleAsync(CancellationToken.None).Within();
            var after = await worker.Engine.GetInfoAsync(doraPath, CancellationToken.None);
            report.Append($" Worker {worker.Identity.Id}: version {before.Status.ETag}, {before.CachedBytes} bytes cached with {inFlight} page loads in flight, {after.CachedBytes} once idle (version {after.Status.ETag}).");
        }

        report.Append(" Worker warnings: ").AppendJoin(" | ", _warnings.Lines);
        Assert.Fail(report.ToString());
    }

    public void OpenGates()
    {
        foreach (CountingUnderStorage storage in Storages)
        {
            storage.ReadGate?.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        OpenGates();
        Http?.Dispose();
        if (Scheduler is not null)
        {
            await Scheduler.DisposeAsync().AsTask().Within();
        }

        await Client.DisposeAsync();
        await Cluster.DisposeAsync().AsTask().Within();
        _directory.Dispose();
    }
}
