namespace Dora.Registry.Etcd;

/// <summary>Settings of the etcd registry. Every default is stated where it is declared.</summary>
public sealed record EtcdRegistryOptions
{
    /// <summary>etcd client URLs (<c>http://host:2379</c>); calls go to the first and move on when one fails.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Cluster name, the <c>&lt;cluster&gt;</c> of <c>/dora/&lt;cluster&gt;/...</c>; <c>default</c> by default.</summary>
    public string Cluster { get; init; } = "default";

    /// <summary>
    /// Lease TTL of a worker's entry: 15 s by default, so a crashed worker leaves the ring within 15 s while a
    /// keep-alive every TTL/3 survives a couple of lost round trips.
    /// </summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>TLS and user/password toward etcd; none by default.</summary>
    public EtcdCredentials Credentials { get; init; } = EtcdCredentials.None;

    /// <summary>Deadline of each etcd call: 5 s by default.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait before reconnecting after an error (doubling up to <see cref="MaxReconnectDelay"/>): 250 ms.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longest wait between reconnection attempts: 5 s by default.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every setting, naming the bad one.</summary>
    public void Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("The etcd registry needs at least one endpoint (etcd://host:port).");
        }

        foreach (Uri endpoint in Endpoints)
        {
            if (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"etcd endpoint '{endpoint}' must be an absolute http:// or https:// URL.");
            }
        }

        if (Credentials.HasUser && string.IsNullOrEmpty(Credentials.Password))
        {
            throw new ArgumentException($"etcd user '{Credentials.User}' has no password: give it in a file or the environment.");
        }

        if (!ClusterNames.IsValid(Cluster))
        {
            throw new ArgumentException($"Cluster name '{Cluster}' is invalid: use 1 to 64 letters, digits, '.', '_' or '-'.");
        }

        if (LeaseTtl < TimeSpan.FromSeconds(2) || LeaseTtl > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"Lease TTL {LeaseTtl.TotalSeconds} s is out of range: 2 s to 1 h.");
        }

        if (CallTimeout <= TimeSpan.Zero || ReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < ReconnectDelay)
        {
            throw new ArgumentException("etcd call timeout and reconnect delays must be positive, the maximum delay at least the first.");
        }
    }
}
