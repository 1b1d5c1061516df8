using Dora.Client;
using Dora.Core.Errors;
using Dora.Hosting;
using Dora.Registry;
using Dora.Scheduler.Http;
using Dora.Scheduler.Jobs;
using Dora.Scheduler.Running;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Scheduler;

/// <summary>
/// A running scheduler: its job store, its jobs (resumed from the store), its REST API, and its entry in the registry
/// so that client commands find it. Dispose to stop: running jobs stop where they are and resume on the next start.
/// </summary>
public sealed class SchedulerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly DoraClient _client;
    private readonly JobStore _store;
    private readonly IAsyncDisposable _advertisement;
    private readonly SchedulerMetrics _metrics;

    private SchedulerHost(WebApplication app, DoraClient client, JobStore store, JobScheduler jobs, SchedulerMetrics metrics, IAsyncDisposable advertisement, string url, int port)
    {
        _app = app;
        _metrics = metrics;
        _client = client;
        _store = store;
        Jobs = jobs;
        _advertisement = advertisement;
        Url = url;
        Port = port;
    }

    public JobScheduler Jobs { get; }

    /// <summary>The REST API's base URL, <c>http://host:port</c>.</summary>
    public string Url { get; }

    public int Port { get; }

    public static async Task<SchedulerHost> StartAsync(SchedulerOptions options, IClusterRegistry registry, ILoggerFactory? logging = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        options.Validate();
        logging ??= NullLoggerFactory.Instance;
        time ??= TimeProvider.System;
        DoraClient client = await DoraClient.ConnectAsync(registry, new DoraClientOptions
        {
            AuthToken = options.WorkerToken,
            Tls = options.WorkerTls,
            FallbackToUnderStorage = false,
            ResponseTimeout = TimeSpan.FromMinutes(5),
        }, logging.CreateLogger("Dora.Scheduler.Client"), cancellationToken).ConfigureAwait(false);
        JobStore? store = null;
        WebApplication? app = null;
        JobScheduler? jobs = null;
        SchedulerMetrics? metrics = null;
        try
        {
            store = new JobStore(options.Directory);
            jobs = new JobScheduler(client, store, options, time, logging.CreateLogger("Dora.Scheduler"));
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Listen(options.Bind, options.Port, listen => listen.UseTls(options.Tls));
                HttpLimits.Apply(kestrel);
            });
            builder.Services.AddPromptShutdown();
            builder.Services.AddProblemDetails();
            metrics = new SchedulerMetrics(jobs);
            builder.Services.AddMetricsOf(metrics.Meter, "dora-scheduler", instance: null);
            app = builder.Build();
            app.UseRequestRateLimit();
            app.UseBearerTokens(options.Tokens, options.OpenMetrics);
            SchedulerApi.Map(app, jobs);
            app.MapMetrics();
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new PortInUseException(PortInUseException.Scheduler, options.Bind.ToString(), options.Port, e);
            }

            int port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            string host = AdvertisedHost.For(options.Bind, options.AdvertisedHost);
            string url = $"{(options.Tls is null ? "http" : "https")}://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
            jobs.Start();
            IAsyncDisposable advertisement = await registry.AdvertiseSchedulerAsync(
                new SchedulerRecord(url, time.GetUtcNow(), typeof(SchedulerHost).Assembly.GetName().Version?.ToString() ?? "0"), cancellationToken).ConfigureAwait(false);
            return new SchedulerHost(app, client, store, jobs, metrics, advertisement, url, port);
        }
        catch
        {
            if (jobs is not null)
            {
                await jobs.DisposeAsync().ConfigureAwait(false);
            }

            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            store?.Dispose();
            metrics?.Dispose();
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _advertisement.DisposeAsync().ConfigureAwait(false);
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await Jobs.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        _metrics.Dispose();
        await _client.DisposeAsync().ConfigureAwait(false);
    }
}
