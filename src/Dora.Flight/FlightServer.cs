using Dora.Core.Errors;
using Dora.Hosting;
using Dora.Worker.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dora.Flight;

/// <summary>
/// A worker's Arrow Flight endpoint: gRPC over HTTP/2 on its own port (<c>WorkerOptions.FlightPort</c>, 8815 by default), so any Flight
/// client connects with <c>grpc+tcp://host:port</c> (<c>grpc+tls://</c> when the worker serves TLS) and no Dora library.
/// </summary>
public sealed class FlightServer : IWorkerEndpoint
{
    private readonly WebApplication _app;

    private FlightServer(WebApplication app, int port, string uri)
    {
        _app = app;
        Port = port;
        Uri = uri;
    }

    public string Kind => IWorkerEndpoint.FlightKind;

    public int Port { get; }

    public string Uri { get; }

    /// <summary>The factory a worker's options take: <c>ExtraEndpoints = [FlightServer.Factory(options)]</c>.</summary>
    public static WorkerEndpointFactory Factory(FlightOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return (context, cancellationToken) => StartAsync(context, options, cancellationToken);
    }

    private static async Task<IWorkerEndpoint> StartAsync(WorkerEndpointContext worker, FlightOptions options, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(worker.Address, worker.FlightPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.UseTls(worker.Tls);
            });
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddPromptShutdown();
        var flight = new FlightContext(worker, options);
        builder.Services.AddSingleton(flight);
        builder.Services.AddSingleton<DoraFlightService>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.MaxSendMessageSize = options.MaxMessageBytes;
            grpc.Interceptors.Add<BearerTokenInterceptor>();
        });
        var app = builder.Build();
        app.MapGrpcService<DoraFlightService>();
        try
        {
            try
            {
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new PortInUseException(PortInUseException.Flight, worker.Address.ToString(), worker.FlightPort, e);
            }

        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"Cannot listen for Arrow Flight on {worker.Address}:{worker.FlightPort}: {e.Message} (choose another flight port).", e);
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        int port = new System.Uri(address).Port;
        flight.SelfUri = $"{(worker.Tls is null ? "grpc+tcp" : "grpc+tls")}://{worker.AdvertisedHost}:{port}";
        return new FlightServer(app, port, flight.SelfUri);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
