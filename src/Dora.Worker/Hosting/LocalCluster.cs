using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Dora.Registry;
using Dora.Registry.InProcess;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.Hosting;

/// <summary>
/// A whole cluster in one process (what <c>dora local</c> runs): an in-process registry and several workers, each
/// with its own cache directory and ports, registered like any worker. It can describe itself in a cluster file
/// (<c>.dora/cluster.json</c>) that client commands read as a static membership.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly List<WorkerHost> _workers;

    private LocalCluster(InProcessRegistry registry, List<WorkerHost> workers)
    {
        Registry = registry;
        _workers = workers;
    }

    /// <summary>The membership every worker registered in.</summary>
    public InProcessRegistry Registry { get; }

    /// <summary>The running workers, in start order.</summary>
    public IReadOnlyList<WorkerHost> Workers => _workers;

    /// <summary>
    /// Starts <paramref name="count"/> workers. <paramref name="optionsFor"/> gives worker <c>i</c>'s options (its own
    /// cache directories and mounts); the cluster sets the ports: worker 0 keeps the ones given, the others take the
    /// next free ones after them (or any free port when the given one is 0), never one of <paramref name="reservedPorts"/>
    /// (kept for other services of the same cluster, such as the scheduler's).
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int count, Func<int, WorkerOptions> optionsFor, Action<ILoggingBuilder>? configureLogging, CancellationToken cancellationToken, IEnumerable<int>? reservedPorts = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 64);
        ArgumentNullException.ThrowIfNull(optionsFor);
        var registry = new InProcessRegistry();
        var workers = new List<WorkerHost>();
        try
        {
            int nextHttp = -1;
            int nextStream = -1;
            int nextFlight = -1;
            var used = new HashSet<int>(reservedPorts ?? []);
            for (int i = 0; i < count; i++)
            {
                WorkerOptions options = optionsFor(i) with { Registry = registry };
                if (i > 0)
                {
                    int httpPort = options.HttpPort == 0 ? 0 : NextFreePort(options.HttpAddress, nextHttp, used);
                    used.Add(httpPort);
                    int streamPort = options.Stream.Port <= 0 ? options.Stream.Port : NextFreePort(options.HttpAddress, nextStream, used);
                    used.Add(streamPort);
                    int flightPort = options.FlightPort == 0 || options.ExtraEndpoints.Count == 0 ? options.FlightPort : NextFreePort(options.HttpAddress, nextFlight, used);
                    options = options with { HttpPort = httpPort, Stream = options.Stream with { Port = streamPort }, FlightPort = flightPort };
                }

                WorkerHost worker = await WorkerHost.StartAsync(options, configureLogging, cancellationToken).ConfigureAwait(false);
                workers.Add(worker);
                used.Add(worker.HttpAddress.Port);
                used.Add(worker.StreamPort);
                used.Add(worker.FlightPort);
                nextHttp = worker.HttpAddress.Port + 1;
                nextStream = worker.StreamPort + 1;
                nextFlight = worker.FlightPort + 1;
            }

            return new LocalCluster(registry, workers);
        }
        catch
        {
            foreach (WorkerHost worker in workers)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>The first port from <paramref name="from"/> on that can be bound on <paramref name="address"/>.</summary>
    public static int FindFreePort(IPAddress address, int from) => NextFreePort(address, from, []);

    /// <summary>The first port from <paramref name="from"/> on that this cluster does not use and that can be bound.</summary>
    private static int NextFreePort(IPAddress address, int from, HashSet<int> used)
    {
        for (int port = Math.Max(from, 1024); port <= 65535; port++)
        {
            if (used.Contains(port))
            {
                continue;
            }

            try
            {
                using var probe = new TcpListener(address, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken; try the next.
            }
        }

        throw new InvalidOperationException($"No free port on {address} from {from} on.");
    }

    /// <summary>
    /// Writes the cluster file: <c>{"cluster","ufs","hashPolicy","workers":[record + URIs],"scheduler"}</c>. Its
    /// <c>workers</c> array is a static membership (<c>--registry static:FILE</c>) and <c>scheduler</c> (null without one)
    /// where client commands find the scheduler; the rest is for people and tools.
    /// </summary>
    public async Task WriteClusterFileAsync(string file, string ufsDescription, string hashPolicy, SchedulerRecord? scheduler, CancellationToken cancellationToken)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(file));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        string temporary = file + ".tmp";
        await using (var stream = File.Create(temporary))
        {
            await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            json.WriteStartObject();
            json.WriteString("cluster", "local");

            // Which process serves this cluster: client commands that find the file check it still runs.
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("ufs", ufsDescription);
            json.WriteString("hashPolicy", hashPolicy);
            json.WriteStartArray("workers");
            foreach (WorkerHost worker in _workers)
            {
                WorkerRecord record = worker.Registered!;
                json.WriteStartObject();
                record.WriteFields(json);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (scheduler is null)
            {
                json.WriteNull("scheduler");
            }
            else
            {
                json.WritePropertyName("scheduler");
                json.WriteRawValue(scheduler.ToJson());
            }

            json.WriteEndObject();
        }

        File.Move(temporary, file, overwrite: true);
    }

    /// <summary>Stops one worker (it deregisters first), as if it had been shut down.</summary>
    public async Task StopWorkerAsync(int index)
    {
        WorkerHost worker = _workers[index];
        await worker.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (WorkerHost worker in _workers)
        {
            await worker.DisposeAsync().ConfigureAwait(false);
        }

        await Registry.DisposeAsync().ConfigureAwait(false);
    }
}
