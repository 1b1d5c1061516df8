using System.Globalization;
using Dora.Client;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;

namespace Dora.FaultTests;

/// <summary>
/// A cluster of real processes: an etcd server and <c>dora worker</c> processes over one folder, each worker with its
/// own cache directory and free ports, a lease TTL of 2 s; and, in this process, a <see cref="DoraClient"/> on it.
/// </summary>
internal sealed class ProcessCluster : IAsyncDisposable
{
    private readonly List<DoraProcess?> _workers = [];
    private readonly string[] _workerArguments;

    private ProcessCluster(TemporaryDirectory directory, EtcdProcess etcd, string[] workerArguments)
    {
        Directory = directory;
        Etcd = etcd;
        _workerArguments = workerArguments;
    }

    public TemporaryDirectory Directory { get; }

    public EtcdProcess Etcd { get; }

    public string Ufs => Directory.Combine("ufs");

    public DoraClient Client { get; private set; } = null!;

    public EtcdRegistry ClientRegistry { get; private set; } = null!;

    /// <summary>Starts etcd and <paramref name="workers"/> workers (each given <paramref name="workerArguments"/> too), and connects a client.</summary>
    public static async Task<ProcessCluster> StartAsync(int workers, Action<string> populate, params string[] workerArguments)
    {
        var directory = new TemporaryDirectory("faults");
        System.IO.Directory.CreateDirectory(directory.Combine("ufs"));
        populate(directory.Combine("ufs"));
        var cluster = new ProcessCluster(directory, await EtcdProcess.StartAsync(), workerArguments);
        try
        {
            for (int i = 0; i < workers; i++)
            {
                await cluster.StartWorkerAsync(i);
            }

            cluster.ClientRegistry = cluster.Registry();
            cluster.Client = await DoraClient.ConnectAsync(cluster.ClientRegistry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
            await cluster.WaitForWorkersAsync(workers);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string CacheDirectory(int index) => Directory.Combine($"cache-{index}");

    /// <summary>Starts (or restarts) worker <paramref name="index"/> and waits until it serves.</summary>
    public async Task StartWorkerAsync(int index, params string[] extra)
    {
        DoraProcess worker = DoraProcess.Start(
            Directory.Path,
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cache-dir", CacheDirectory(index),
             "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2", .. _workerArguments, .. extra]);
        while (_workers.Count <= index)
        {
            _workers.Add(null);
        }

        _workers[index] = worker;
        await worker.WaitForOutputAsync("is serving");
    }

    public DoraProcess Worker(int index) => _workers[index] ?? throw new InvalidOperationException($"worker {index} is not running");

    /// <summary>A registry on this cluster's etcd, for views and reads of the membership.</summary>
    public EtcdRegistry Registry() => new(new EtcdRegistryOptions { Endpoints = [Etcd.ClientUrl] });

    /// <summary>The record worker <paramref name="index"/> registered (found by its banner's HTTP port).</summary>
    public async Task<WorkerRecord> RecordAsync(int index)
    {
        string banner = Worker(index).Output;
        int at = banner.IndexOf("HTTP port ", StringComparison.Ordinal) + "HTTP port ".Length;
        int port = int.Parse(banner[at..].Split('\n')[0].Trim(), CultureInfo.InvariantCulture);
        Membership membership = await ClientRegistry.ReadAsync(default).Within();
        return membership.Workers.Single(w => w.HttpPort == port);
    }

    /// <summary>The worker's /metrics, as name-and-labels -> value.</summary>
    public async Task<Dictionary<string, double>> MetricsAsync(int index)
    {
        WorkerRecord record = await RecordAsync(index);
        using var http = new HttpClient { Timeout = TestTimeouts.Default };
        return PrometheusSamples.Parse(await http.GetStringAsync(new Uri($"http://{record.Host}:{record.HttpPort}/metrics")).Within());
    }

    /// <summary>GET on the worker's HTTP API.</summary>
    public async Task<HttpResponseMessage> HttpAsync(int index, string pathAndQuery)
    {
        WorkerRecord record = await RecordAsync(index);
        using var http = new HttpClient { Timeout = TestTimeouts.Default };
        return await http.GetAsync(new Uri($"http://{record.Host}:{record.HttpPort}{pathAndQuery}")).Within();
    }

    /// <summary>The index of the worker that owns <paramref name="path"/> on the client's ring.</summary>
    public async Task<int> OwnerIndexAsync(string path)
    {
        string owner = Client.Cluster.OwnerOf(path).Id;
        for (int i = 0; i < _workers.Count; i++)
        {
            if (_workers[i] is not null && (await RecordAsync(i)).Id == owner)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no running worker is {owner}");
    }

    /// <summary>Runs <c>dora</c> against this cluster (its registry) and returns the exit code and output.</summary>
    public Task<(int ExitCode, string Output)> DoraAsync(params string[] arguments) =>
        DoraProcess.RunAsync(Directory.Path, [.. arguments, "--registry", Etcd.RegistryAddress]);

    private async Task WaitForWorkersAsync(int count)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (Client.Cluster.Membership.Workers.Count != count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the client never saw {count} workers");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (ClientRegistry is not null)
        {
            await ClientRegistry.DisposeAsync();
        }

        foreach (DoraProcess? worker in _workers)
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }

        await Etcd.DisposeAsync();
        Directory.Dispose();
    }
}
