using Dora.Client;
using Dora.Core.Errors;
using Dora.Hosting;
using Dora.S3Gateway.Auth;
using Dora.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dora.S3Gateway;

/// <summary>
/// A worker's S3 endpoint (docs/s3.md): S3's REST API on its own port (8814 by default), over the worker's TLS when it
/// has one. Paths this worker owns are read from its own cache; others through their owner.
/// </summary>
public sealed class S3GatewayServer : IWorkerEndpoint
{
    private readonly WebApplication _app;
    private readonly DoraClient? _client;

    private S3GatewayServer(WebApplication app, DoraClient? client, int port, string uri)
    {
        _app = app;
        _client = client;
        Port = port;
        Uri = uri;
    }

    public string Kind => IWorkerEndpoint.S3Kind;

    public int Port { get; }

    public string Uri { get; }

    /// <summary>The factory a worker's options take: <c>ExtraEndpoints = [S3GatewayServer.Factory(options, clientOptions)]</c>.</summary>
    /// <param name="options">The gateway's settings.</param>
    /// <param name="owners">How the gateway reaches the owners of paths it does not own (token, TLS): the worker's own.</param>
    public static WorkerEndpointFactory Factory(S3GatewayOptions options, DoraClientOptions owners)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(owners);
        options.Validate();
        return (context, cancellationToken) => StartAsync(context, options, owners, cancellationToken);
    }

    private static async Task<IWorkerEndpoint> StartAsync(WorkerEndpointContext worker, S3GatewayOptions options, DoraClientOptions owners, CancellationToken cancellationToken)
    {
        DoraClient? client = worker.Registry is null
            ? null
            : await DoraClient.ConnectAsync(worker.Registry, owners with { FallbackToUnderStorage = false }, worker.Logger, cancellationToken).ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(worker.Address, options.Port, listen => listen.UseTls(worker.Tls));
            kestrel.AddServerHeader = false;
            HttpLimits.Apply(kestrel);
        });
        builder.Services.AddPromptShutdown();
        var app = builder.Build();
        var objects = new ObjectSource(worker, client);
        var metrics = new GatewayMetrics(worker.Engine.Metrics.Meter);
        var staging = new Operations.UploadStaging(options.StagingDirectory ?? Path.Combine(Path.GetTempPath(), "dora-s3-uploads", worker.WorkerId), options.Time);
        var router = new S3Router(
            options,
            new S3Authentication(options.Keys, options.AllowAnonymous, options.Time),
            objects,
            metrics,
            new Operations.MultipartUploads(staging, objects, metrics, options.Time),
            new Operations.Redirects(options, objects),
            worker.Logger);
        app.UseRequestRateLimit();
        app.Run(router.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            throw new PortInUseException(PortInUseException.S3, worker.Address.ToString(), options.Port, e);
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new System.Uri(address).Port;
        return new S3GatewayServer(app, client, port, $"{(worker.Tls is null ? "http" : "https")}://{worker.AdvertisedHost}:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_client is not null)
        {
            await _client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
