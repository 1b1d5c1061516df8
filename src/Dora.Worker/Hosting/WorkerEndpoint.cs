using System.Net;
using Dora.Registry;
using Dora.Worker.Reading;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.Hosting;

/// <summary>
/// An extra endpoint a worker serves next to HTTP and the page stream (Arrow Flight lives in its own project, which
/// the worker does not reference: the program that composes a worker passes it in as a factory).
/// </summary>
public interface IWorkerEndpoint : IAsyncDisposable
{
    /// <summary>What the endpoint serves; <see cref="FlightKind"/> is advertised as the worker's <c>flightPort</c>.</summary>
    string Kind { get; }

    /// <summary>The port it listens on.</summary>
    int Port { get; }

    /// <summary>The URI clients use to reach it, e.g. <c>grpc+tls://host:8815</c>.</summary>
    string Uri { get; }

    /// <summary>The kind of the Arrow Flight endpoint.</summary>
    public const string FlightKind = "flight";

    /// <summary>The kind of the S3 gateway, advertised as the worker's <c>s3Port</c>.</summary>
    public const string S3Kind = "s3";
}

/// <summary>What an extra endpoint gets from the worker that hosts it.</summary>
/// <param name="Engine">The worker's storage engine.</param>
/// <param name="WorkerId">The worker's id.</param>
/// <param name="Address">The address the worker binds its endpoints to.</param>
/// <param name="AdvertisedHost">The host name clients are told to use.</param>
/// <param name="Cluster">The worker's view of its cluster (null until registered, or when running without a registry).</param>
/// <param name="Logger">Where to log.</param>
/// <param name="FlightPort">The port a Flight endpoint listens on (<see cref="WorkerOptions.FlightPort"/>).</param>
/// <param name="Tls">The worker's TLS (<see cref="WorkerOptions.Tls"/>), which every face serves alike; null: plaintext.</param>
/// <param name="Registry">The cluster's registry, for endpoints that read through other workers; null without one.</param>
public sealed record WorkerEndpointContext(
    StorageEngine Engine, string WorkerId, IPAddress Address, string AdvertisedHost, Func<ClusterView?> Cluster, ILogger Logger, int FlightPort, Dora.Core.Security.ServerTls? Tls, IClusterRegistry? Registry = null);

/// <summary>Starts an extra endpoint once the worker's engine is open.</summary>
public delegate Task<IWorkerEndpoint> WorkerEndpointFactory(WorkerEndpointContext context, CancellationToken cancellationToken);
