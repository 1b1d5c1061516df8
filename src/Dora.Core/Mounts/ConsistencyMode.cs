namespace Dora.Core.Mounts;

/// <summary>How often a worker checks that its cached metadata still matches the under storage.</summary>
public enum ConsistencyMode
{
    /// <summary>Revalidate after the mount's TTL has passed since the last check (the default).</summary>
    Ttl,

    /// <summary>Files never change: cached metadata is trusted until it is evicted or invalidated.</summary>
    Immutable,

    /// <summary>Revalidate on every open (every read request); the cache still saves the data transfer.</summary>
    Always,
}
