using Dora.Core.Paths;
using Dora.Core.UnderStorage;

namespace Dora.Core.Mounts;

/// <summary>One entry of the mount table: Dora paths below <see cref="Prefix"/> live in <see cref="Storage"/>.</summary>
public sealed class Mount
{
    /// <summary>Revalidation interval of <see cref="ConsistencyMode.Ttl"/> when none is given: 60 s.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(60);

    public Mount(DoraPath prefix, IUnderStorage storage, ConsistencyMode consistency = ConsistencyMode.Ttl, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var effectiveTtl = ttl ?? DefaultTtl;
        if (effectiveTtl < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"The TTL of mount '{prefix}' cannot be negative.");
        }

        Prefix = prefix;
        Storage = storage;
        Consistency = consistency;
        Ttl = effectiveTtl;
    }

    public DoraPath Prefix { get; }

    /// <summary>How the mount was given (a command line's <c>--mount</c>), when it was; what workers advertise then.</summary>
    public MountSpec? Spec { get; init; }

    public IUnderStorage Storage { get; }

    public ConsistencyMode Consistency { get; }

    /// <summary>How long metadata is trusted in <see cref="ConsistencyMode.Ttl"/> mode.</summary>
    public TimeSpan Ttl { get; }

    /// <summary><c>/lake -> s3://bucket/prefix at http://host:9000 (path-style) (ttl 60 s)</c>: compared between workers, so never with credentials.</summary>
    public override string ToString() => Spec?.ToString() ??
        $"{Prefix} -> {Storage.Description} ({Consistency.ToString().ToLowerInvariant()}{(Consistency == ConsistencyMode.Ttl ? $" {Ttl.TotalSeconds:0.###} s" : string.Empty)})";
}
