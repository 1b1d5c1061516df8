namespace Dora.Worker.Pages.Eviction;

/// <summary>The eviction policies a cache directory can use.</summary>
public enum EvictionPolicyKind
{
    /// <summary>Least recently used (the default): good for most read patterns.</summary>
    Lru,

    /// <summary>First in, first out: cheapest; ignores hits.</summary>
    Fifo,

    /// <summary>Least frequently used, with a saturating counter per page.</summary>
    Lfu,

    /// <summary>S3-FIFO: a small probationary queue protects the main queue from one-off scans.</summary>
    S3Fifo,
}
