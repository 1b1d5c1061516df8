using System.Net;
using Dora.Core.Mounts;
using Dora.Registry;
using Dora.Worker.Metadata;
using Dora.Worker.PageStream;
using Dora.Worker.Pages;
using Dora.Worker.Reading;

namespace Dora.Worker.Hosting;

/// <summary>Everything a worker needs to start. Every default is stated here; <see cref="Validate"/> names a bad setting.</summary>
public sealed record WorkerOptions
{
    /// <summary>Default HTTP port of a worker: 8817.</summary>
    public const int DefaultHttpPort = 8817;

    /// <summary>The mount table: which under storage serves which path prefix.</summary>
    public required MountTable Mounts { get; init; }

    public required PageStoreOptions Pages { get; init; }

    public required MetadataOptions Metadata { get; init; }

    public StorageEngineOptions Reading { get; init; } = new();

    /// <summary>Address the HTTP endpoint binds to. Default loopback; set <see cref="IPAddress.Any"/> to serve other machines.</summary>
    public IPAddress HttpAddress { get; init; } = IPAddress.Loopback;

    /// <summary>HTTP port. Default <see cref="DefaultHttpPort"/>; 0 picks a free port (tests).</summary>
    public int HttpPort { get; init; } = DefaultHttpPort;

    /// <summary>Default Arrow Flight port of a worker: 8815.</summary>
    public const int DefaultFlightPort = 8815;

    /// <summary>
    /// Port of the Arrow Flight endpoint, when one is among <see cref="ExtraEndpoints"/>: 8815 by default; 0 picks a
    /// free port.
    /// </summary>
    public int FlightPort { get; init; } = DefaultFlightPort;

    /// <summary>The page stream endpoint (port 8816 by default, bound to <see cref="HttpAddress"/> too).</summary>
    public PageStreamOptions Stream { get; init; } = new();

    /// <summary>
    /// The tokens of the worker's HTTP API: when set, every request but <c>/healthz</c> (and <c>/metrics</c> with
    /// <see cref="OpenMetrics"/>) needs <c>Authorization: Bearer</c> with one of them. Null (the default): open.
    /// </summary>
    public Dora.Core.Security.TokenSet? HttpTokens { get; init; }

    /// <summary>
    /// TLS on every TCP face (HTTPS, the page stream as <c>dora+tls://</c>, Flight as <c>grpc+tls://</c>) with one
    /// certificate, and mutual TLS when it names client CAs; advertised as <c>"tls": true</c>. Null (the default):
    /// plaintext everywhere.
    /// </summary>
    public Dora.Core.Security.ServerTls? Tls { get; init; }

    /// <summary>Serve <c>/metrics</c> without a token even when <see cref="HttpTokens"/> are set (false by default).</summary>
    public bool OpenMetrics { get; init; }

    /// <summary>How the worker's own view of the cluster builds its ring: the same policy as every client.</summary>
    public ClusterViewOptions Cluster { get; init; } = new();

    /// <summary>Extra endpoints to serve (Arrow Flight), started after the page stream and before registration.</summary>
    public IReadOnlyList<WorkerEndpointFactory> ExtraEndpoints { get; init; } = [];

    /// <summary>
    /// Where the worker registers so that clients find it; null (the default) runs it unregistered, reachable only by
    /// its HTTP address.
    /// </summary>
    public IClusterRegistry? Registry { get; init; }

    /// <summary>
    /// An id chosen by the operator instead of the one generated and kept in the first cache directory; null (the
    /// default) keeps the stored id.
    /// </summary>
    public string? WorkerId { get; init; }

    /// <summary>
    /// Host name or address advertised to clients. Null (the default): the bound address, or the machine's host name
    /// when bound to every interface.
    /// </summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>The host clients are told to connect to.</summary>
    public string EffectiveAdvertisedHost => Dora.Registry.AdvertisedHost.For(HttpAddress, AdvertisedHost);

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Mounts, nameof(Mounts));
        if (Mounts.Mounts.Count == 0)
        {
            throw new ArgumentException("WorkerOptions.Mounts: at least one mount is required.");
        }

        if (HttpPort is < 0 or > 65535)
        {
            throw new ArgumentException($"WorkerOptions.HttpPort must be between 0 and 65535 (was {HttpPort}).");
        }

        if (FlightPort is < 0 or > 65535)
        {
            throw new ArgumentException($"WorkerOptions.FlightPort must be between 0 and 65535 (was {FlightPort}).");
        }

        Stream.Validate();
        Pages.Validate();
        Metadata.Validate();
        Reading.Validate();
    }
}
