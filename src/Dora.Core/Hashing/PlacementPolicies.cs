using System.Globalization;

namespace Dora.Core.Hashing;

/// <summary>The policies by name, as options and the command line spell them.</summary>
public static class PlacementPolicies
{
    /// <summary>
    /// The default policy's name. Rendezvous: in the P7 benchmark (benchmarks/RESULTS.md) it is the only policy whose
    /// balance is the ideal random split and whose moved keys are the ideal 1/N at 10, 100 and 1000 workers; its O(N)
    /// lookup is vectorized (about 50 ns at 100 workers, 175 ns at 1000).
    /// </summary>
    public const string DefaultName = "rendezvous";

    /// <summary>Every policy name, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["rendezvous", "maglev", "ring", "ketama", "jump", "multi-probe", "bounded-load"];

    /// <summary>The default policy.</summary>
    public static IPlacementPolicy Default { get; } = Create(DefaultName);

    /// <summary>
    /// The policy named by <paramref name="spec"/>: a name from <see cref="Names"/>, optionally followed by
    /// <c>:</c> and the policy's one tuning value (<c>maglev:TABLE_SIZE</c>, <c>ring:VIRTUAL_NODES</c>,
    /// <c>multi-probe:PROBES</c>, <c>bounded-load:EPSILON</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name, or a tuning value the policy does not accept.</exception>
    public static IPlacementPolicy Create(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? spec : spec[..colon];
        string? value = colon < 0 ? null : spec[(colon + 1)..];
        try
        {
            return (name, value) switch
            {
                ("maglev", null) => new MaglevPolicy(),
                ("maglev", _) => new MaglevPolicy(int.Parse(value, CultureInfo.InvariantCulture)),
                ("ring", null) => new ConsistentRingPolicy(),
                ("ring", _) => new ConsistentRingPolicy(int.Parse(value, CultureInfo.InvariantCulture)),
                ("ketama", null) => new KetamaPolicy(),
                ("jump", null) => new JumpPolicy(),
                ("multi-probe", null) => new MultiProbePolicy(),
                ("multi-probe", _) => new MultiProbePolicy(int.Parse(value, CultureInfo.InvariantCulture)),
                ("rendezvous", null) => new RendezvousPolicy(),
                ("bounded-load", null) => new BoundedLoadPolicy(),
                ("bounded-load", _) => new BoundedLoadPolicy(double.Parse(value, CultureInfo.InvariantCulture)),
                _ when Names.Contains(name) => throw new ArgumentException($"Hashing policy '{name}' takes no value, but '{spec}' gives one."),
                _ => throw new ArgumentException($"Unknown hashing policy '{name}'; expected one of: {string.Join(", ", Names)}."),
            };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
            throw new ArgumentException($"Bad value in hashing policy '{spec}': {e.Message}", nameof(spec), e);
        }
    }

    /// <summary>The spec that <see cref="Create"/> turns back into the same policy: its name, and its tuning value when not the default.</summary>
    public static string Describe(IPlacementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy switch
        {
            MaglevPolicy { TableSize: not MaglevPolicy.DefaultTableSize } maglev => $"maglev:{maglev.TableSize.ToString(CultureInfo.InvariantCulture)}",
            ConsistentRingPolicy { VirtualNodes: not 256 } ring => $"ring:{ring.VirtualNodes.ToString(CultureInfo.InvariantCulture)}",
            MultiProbePolicy { Probes: not 21 } probes => $"multi-probe:{probes.Probes.ToString(CultureInfo.InvariantCulture)}",
            BoundedLoadPolicy { Epsilon: not 0.05 } bounded => $"bounded-load:{bounded.Epsilon.ToString("R", CultureInfo.InvariantCulture)}",
            _ => policy.Name,
        };
    }
}
