using Dora.Core.Mounts;
using Dora.Registry;

namespace Dora.Client;

/// <summary>How a <see cref="DoraClient"/> behaves. Every default is stated where it is declared.</summary>
public sealed record DoraClientOptions
{
    /// <summary>The ring: placement policy and weights, the same as every other process of the cluster.</summary>
    public ClusterViewOptions Cluster { get; init; } = new();

    /// <summary>Token presented to workers that require one; null by default.</summary>
    public string? AuthToken { get; init; }

    /// <summary>
    /// TLS toward workers that advertise it: whom to trust (the system store by default), the client certificate for
    /// workers that require one, and whether workers advertised without TLS are refused. Null: the system store, no
    /// client certificate, plaintext workers allowed.
    /// </summary>
    public Dora.Core.Security.ClientTls? Tls { get; init; }

    /// <summary>Page stream connections kept per worker: 2 by default (requests are multiplexed on each).</summary>
    public int ConnectionsPerWorker { get; init; } = 2;

    /// <summary>Time allowed to connect and handshake with a worker: 5 s by default.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time allowed between two frames of one response before the worker is considered failed: 30 s by default (a
    /// cold read of a slow under storage streams page by page, so this bounds one page, not a whole read).
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Distinct workers tried for one request, owner first, then the next on the ring: 2 by default.</summary>
    public int MaxWorkerAttempts { get; init; } = 2;

    /// <summary>
    /// Read the under storage directly when every worker tried failed with a transient error: on by default, when
    /// <see cref="UnderStorageMounts"/> is given.
    /// </summary>
    public bool FallbackToUnderStorage { get; init; } = true;

    /// <summary>The mount table for direct under-storage reads; null (the default) disables that fallback.</summary>
    public MountTable? UnderStorageMounts { get; init; }

    /// <summary>Checks every setting, naming the bad one.</summary>
    public void Validate()
    {
        if (ConnectionsPerWorker is < 1 or > 64)
        {
            throw new ArgumentException($"DoraClientOptions.ConnectionsPerWorker must be 1 to 64 (was {ConnectionsPerWorker}).");
        }

        if (MaxWorkerAttempts is < 1 or > 16)
        {
            throw new ArgumentException($"DoraClientOptions.MaxWorkerAttempts must be 1 to 16 (was {MaxWorkerAttempts}).");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ResponseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("DoraClientOptions.ConnectTimeout and ResponseTimeout must be positive.");
        }
    }
}
