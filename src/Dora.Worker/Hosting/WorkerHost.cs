using System.Reflection;
using Dora.Core.Errors;
using Dora.Hosting;
using Dora.Registry;
using Dora.Worker.Http;
using Dora.Worker.Metrics;
using Dora.Worker.PageStream;
using Dora.Worker.Reading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.Hosting;

/// <summary>A running worker: its storage engine and its HTTP endpoint. Dispose to stop it.</summary>
public sealed class WorkerHost : IAsyncDisposable
{
    /// <summary>How often expired metadata is swept out of RocksDB: hourly, cheap next to the 7-day retention.</summary>
    private static readonly TimeSpan MetadataSweepInterval = TimeSpan.FromHours(1);

    /// <summary>How often the worker's health is compared with what its registry entry says: every 2 s.</summary>
    private static readonly TimeSpan HealthPublishInterval = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly WorkerMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sweeper;
    private readonly Task _scrubber;

    private IWorkerRegistration? _registration;
    private PageStreamServer? _stream;
    private readonly List<IWorkerEndpoint> _endpoints = [];
    private ClusterView? _cluster;
    private Task _healthPublisher = Task.CompletedTask;
    private int _disposed;

    private WorkerHost(WebApplication app, StorageEngine engine, WorkerMetrics metrics, Uri httpAddress, WorkerIdentity identity)
    {
        _app = app;
        Engine = engine;
        _metrics = metrics;
        HttpAddress = httpAddress;
        Identity = identity;
        _sweeper = SweepMetadataAsync(_stopping.Token);
        _scrubber = engine.Pages.RunScrubberAsync(TimeProvider.System, _stopping.Token);
    }

    public StorageEngine Engine { get; }

    /// <summary>The page stream port, or 0 when the endpoint is disabled.</summary>
    public int StreamPort => _stream?.Port ?? 0;

    /// <summary>The Arrow Flight port, or 0 when no Flight endpoint is served.</summary>
    public int FlightPort => _endpoints.Find(e => e.Kind == IWorkerEndpoint.FlightKind)?.Port ?? 0;

    /// <summary>The S3 gateway's port, or 0 when no gateway is served.</summary>
    public int S3Port => _endpoints.Find(e => e.Kind == IWorkerEndpoint.S3Kind)?.Port ?? 0;

    /// <summary>The Arrow Flight URI clients use (<c>grpc+tcp://</c> or <c>grpc+tls://</c>), or null when no Flight endpoint is served.</summary>
    public string? FlightUri => _endpoints.Find(e => e.Kind == IWorkerEndpoint.FlightKind)?.Uri;

    /// <summary>The worker's view of its cluster (who owns what); null without a registry.</summary>
    public ClusterView? Cluster => _cluster;

    /// <summary>The worker's persistent identity.</summary>
    public WorkerIdentity Identity { get; }

    /// <summary>The record this worker registered, or null when it runs without a registry.</summary>
    public WorkerRecord? Registered => _registration?.Worker;

    /// <summary>
    /// Completes when the registration ends; faults with <see cref="DuplicateWorkerIdException"/> if another live
    /// worker takes this worker's id, after which the worker must stop. Never completes without a registry.
    /// </summary>
    public Task RegistrationCompletion => _registration?.Completion ?? Task.Delay(Timeout.Infinite, CancellationToken.None);

    /// <summary>The Dora version workers advertise.</summary>
    public static string Version { get; } =
        typeof(WorkerHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Base address of the HTTP endpoint, e.g. <c>http://127.0.0.1:8817/</c> (<c>https://</c> with TLS).</summary>
    public Uri HttpAddress { get; }

    /// <summary>Opens the caches and starts serving. Configure logging through <paramref name="configureLogging"/>.</summary>
    public static async Task<WorkerHost> StartAsync(WorkerOptions options, Action<ILoggingBuilder>? configureLogging, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        if (configureLogging is not null)
        {
            configureLogging(builder.Logging);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(options.HttpAddress, options.HttpPort, listen => listen.UseTls(options.Tls));
            HttpLimits.Apply(kestrel);
        });
        builder.Services.AddPromptShutdown();
        builder.Services.AddProblemDetails();
        var metrics = new WorkerMetrics();
        builder.Services.AddMetricsOf(metrics.Meter, "dora-worker", options.WorkerId);
        var app = builder.Build();
        StorageEngine? engine = null;
        WorkerHost? host = null;
        try
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dora.Worker");
            engine = new StorageEngine(options.Mounts, options.Pages, options.Metadata, options.Reading, metrics, logger);
            // The first cache directory is locked by the page store, so no other live process shares this identity.
            var identity = WorkerIdentity.LoadOrCreate(options.Pages.Directories[0].Path, options.WorkerId);
            app.UseRequestRateLimit();
            app.UseBearerTokens(options.HttpTokens, options.OpenMetrics);
            WorkerHttpApi.Map(app, engine, identity.Id, () => host?._cluster, options.Cluster);
            app.MapMetrics();
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new PortInUseException(PortInUseException.Http, options.HttpAddress.ToString(), options.HttpPort, e);
            }

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var httpAddress = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal) + "/");
            host = new WorkerHost(app, engine, metrics, httpAddress, identity);
            if (options.Stream.Port >= 0)
            {
                host._stream = PageStreamServer.Start(options.HttpAddress, engine, options.Stream with { Tls = options.Tls }, identity.Id, logger);
            }

            var context = new WorkerEndpointContext(engine, identity.Id, options.HttpAddress, options.EffectiveAdvertisedHost, () => host._cluster, logger, options.FlightPort, options.Tls, options.Registry);
            foreach (var factory in options.ExtraEndpoints)
            {
                host._endpoints.Add(await factory(context, cancellationToken).ConfigureAwait(false));
            }

            if (options.Registry is not null)
            {
                await host.RegisterAsync(options, cancellationToken).ConfigureAwait(false);
            }

            return host;
        }
        catch
        {
            if (host is not null)
            {
                await host.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            await app.DisposeAsync().ConfigureAwait(false);
            engine?.Dispose();
            metrics.Dispose();
            throw;
        }
    }

    /// <summary>Registers after the endpoints serve, so clients never route to a worker that cannot answer yet.</summary>
    private async Task RegisterAsync(WorkerOptions options, CancellationToken cancellationToken)
    {
        long capacity = 0;
        foreach (var directory in options.Pages.Directories)
        {
            capacity += directory.QuotaBytes;
        }

        // A worker whose stores differ from the cluster's would serve other bytes for the same paths: it does not join.
        IReadOnlyList<string> mounts = options.Mounts.Describe();
        MountAgreement.Check(mounts, await options.Registry!.ReadAsync(cancellationToken).ConfigureAwait(false), $"worker {Identity.Id}", Identity.Id);
        var record = new WorkerRecord
        {
            Id = Identity.Id,
            Mounts = mounts,
            Host = options.EffectiveAdvertisedHost,
            HttpPort = HttpAddress.Port,
            StreamPort = StreamPort,
            FlightPort = FlightPort,
            S3Port = S3Port,
            Tls = options.Tls is not null,
            CapacityBytes = capacity,
            StartedAt = DateTimeOffset.UtcNow,
            Version = Version,
        };
        _registration = await options.Registry!.RegisterAsync(record, new RegistrationOptions { PreviousSession = Identity.Session }, cancellationToken)
            .ConfigureAwait(false);
        Identity.SaveSession(_registration.Session);

        // The worker routes too (Flight answers with the owner of each piece), by the same ring as every client.
        _cluster = await ClusterView.StartAsync(options.Registry, options.Cluster, logger: null, cancellationToken).ConfigureAwait(false);
        _metrics.SetRegistered(true);
        _registration.SessionChanged += (_, session) =>
        {
            Identity.SaveSession(session);
            _metrics.RegistrationRenewed();
        };
        _ = _registration.Completion.ContinueWith(_ => _metrics.SetRegistered(false), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        _healthPublisher = PublishHealthAsync(_registration, _stopping.Token);
    }

    /// <summary>
    /// Keeps the registry entry's state in step with the worker's health: <c>degraded</c> with the reasons whenever
    /// <c>/healthz</c> (and Flight's health action) says so, <c>serving</c> again once it recovers.
    /// </summary>
    private async Task PublishHealthAsync(IWorkerRegistration registration, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(HealthPublishInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var health = StatusReplies.Health(Engine, Identity.Id);
                string state = health.Status == "ok" ? WorkerRecord.Serving : WorkerRecord.Degraded;
                WorkerRecord current = registration.Worker;
                if ((current.State ?? WorkerRecord.Serving) != state || !(current.Reasons ?? []).SequenceEqual(health.Reasons))
                {
                    await registration.UpdateAsync(current with { State = state, Reasons = health.Reasons.Count == 0 ? null : health.Reasons }, stopping).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>Stops the worker: leaves the ring, closes the endpoints, lets pages reach disk. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Background work stops first: nothing may rewrite the registry entry once the worker has said it is leaving.
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _healthPublisher.ConfigureAwait(false);
        if (_registration is not null)
        {
            // Leave the ring first, so clients stop routing here before the endpoints close.
            await _registration.DisposeAsync().ConfigureAwait(false);
            _metrics.SetRegistered(false);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var endpoint in _endpoints)
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
        }

        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }

        await _sweeper.ConfigureAwait(false);
        await _scrubber.ConfigureAwait(false);
        _stopping.Dispose();
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);

            // Let pages already read finish reaching disk, so a restart finds them; bounded so a stuck disk cannot
            // hold the shutdown.
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Engine.Pages.WhenIdleAsync(drain.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Pages still being written are lost; the next start-up deletes their temporary files.
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            Engine.Dispose();
            _metrics.Dispose();
        }
    }

    private async Task SweepMetadataAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(MetadataSweepInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                Engine.Metadata.SweepExpired();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }
}
