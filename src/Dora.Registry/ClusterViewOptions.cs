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
}
