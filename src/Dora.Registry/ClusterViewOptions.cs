using Dora.Core.Hashing;

namespace Dora.Registry;

/// <summary>How a process turns membership into a ring. Every default is stated where it is declared.</summary>
public sealed record ClusterViewOptions
{
    /// <summary>The placement policy; every process of a cluster must use the same. Rendezvous by default.</summary>
    public IPlacementPolicy Policy { get; init; } = PlacementPolicies.Default;

    /// <summary>Weight workers by their advertised cache capacity; off by default (every worker weighs 1).</summary>
    public bool CapacityWeights { get; init; }

    /// <summary>
    /// Least time between two ring rebuilds: 200 ms by default, so a burst of joins (a rolling restart) costs one
    /// rebuild instead of one per event, while a change still takes effect almost at once.
    /// </summary>
    public TimeSpan RebuildInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a view that suddenly became empty is held back before it is re-read and, if still empty, believed:
    /// 15 s by default, one lease TTL. A lost registry must not turn into a cluster-wide miss storm.
    /// </summary>
    public TimeSpan EmptyViewConfirmation { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a worker that vanished from the registry without saying it was leaving (its lease expired) stays on the
    /// ring: 20 s by default. After etcd was unreachable for longer than the lease TTL, every lease expires at once when
    /// it comes back, and the workers, still running, re-register within a few seconds; meanwhile the ring stays whole
    /// instead of moving most of the key space. A worker that really died is tried first for that long, and clients
    /// fail over past it (and skip it while it refuses connections). A worker that leaves on purpose says so and is
    /// dropped at once.
    /// </summary>
    public TimeSpan DepartureGrace { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The clock for rebuild pacing, confirmations and grace (tests pass a fake one). System time by default.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
