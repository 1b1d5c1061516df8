using Dora.Registry.Etcd;
using Dora.Registry.StaticFile;
using Microsoft.Extensions.Logging;

namespace Dora.Registry;

/// <summary>
/// Registry addresses as the command line and <c>DORA_REGISTRY</c> spell them:
/// <c>etcd://host:port[,host:port...]</c> or <c>static:PATH</c>.
/// </summary>
public static class RegistryAddress
{
    /// <summary>Opens the registry an address names.</summary>
    /// <param name="address">The address.</param>
    /// <param name="cluster">Cluster name (etcd key prefix); <see cref="ClusterNames.Default"/> when null.</param>
    /// <param name="leaseTtl">Worker lease TTL for etcd; the etcd default when null.</param>
    /// <param name="logger">Where registry warnings go.</param>
    /// <param name="credentials">TLS and user for etcd; null or <see cref="EtcdCredentials.None"/> for none (static files take none).</param>
    /// <exception cref="ArgumentException">The address is malformed, or credentials are given for a static file; the message says which.</exception>
    public static IClusterRegistry Open(string address, string? cluster, TimeSpan? leaseTtl, ILogger? logger, EtcdCredentials? credentials = null)
    {
        credentials ??= EtcdCredentials.None;
        ArgumentNullException.ThrowIfNull(address);
        if (address.StartsWith("etcd://", StringComparison.OrdinalIgnoreCase))
        {
            var endpoints = new List<Uri>();
            foreach (string hostPort in address["etcd://".Length..].TrimEnd('/').Split(',', StringSplitOptions.TrimEntries))
            {
                if (!Uri.TryCreate($"http://{hostPort}", UriKind.Absolute, out Uri? endpoint) || endpoint.AbsolutePath != "/" || hostPort.Length == 0)
                {
                    throw new ArgumentException($"Registry address '{address}' has a bad etcd endpoint '{hostPort}'; expected etcd://host:port[,host:port...].");
                }

                endpoints.Add(endpoint);
            }

            var options = new EtcdRegistryOptions { Endpoints = endpoints, Cluster = cluster ?? ClusterNames.Default, Credentials = credentials };
            return new EtcdRegistry(leaseTtl is { } ttl ? options with { LeaseTtl = ttl } : options, logger);
        }

        if (address.StartsWith("static:", StringComparison.OrdinalIgnoreCase) && address.Length > "static:".Length)
        {
            if (credentials.Tls is not null || credentials.HasUser)
            {
                throw new ArgumentException($"Registry address '{address}' is a static file: etcd TLS and user options do not apply to it.");
            }

            return new StaticFileRegistry(address["static:".Length..], pollInterval: null, logger);
        }

        throw new ArgumentException($"Registry address '{address}' is not understood; expected etcd://host:port[,host:port...] or static:PATH.");
    }
}
