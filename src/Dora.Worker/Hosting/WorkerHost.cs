using Dora.Worker.Http;
using Dora.Worker.Metrics;
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

    private readonly WebApplication _app;
    private readonly WorkerMetrics _metrics;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _sweeper;

    private WorkerHost(WebApplication app, StorageEngine engine, WorkerMetrics metrics, Uri httpAddress)
    {
        _app = app;
        Engine = engine;
        _metrics = metrics;
        HttpAddress = httpAddress;
        _sweeper = SweepMetadataAsync(_stopping.Token);
    }

    public StorageEngine Engine { get; }

    /// <summary>Base address of the HTTP endpoint, e.g. <c>http://127.0.0.1:8817/</c>.</summary>
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
            kestrel.Listen(options.HttpAddress, options.HttpPort);
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddProblemDetails();
        var app = builder.Build();
        var metrics = new WorkerMetrics();
        StorageEngine? engine = null;
        try
        {
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Dora.Worker");
            engine = new StorageEngine(options.Mounts, options.Pages, options.Metadata, options.Reading, metrics, logger);
            WorkerHttpApi.Map(app, engine);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new WorkerHost(app, engine, metrics, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal) + "/"));
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            engine?.Dispose();
            metrics.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _sweeper.ConfigureAwait(false);
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
