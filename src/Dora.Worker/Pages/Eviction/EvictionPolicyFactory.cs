namespace Dora.Worker.Pages.Eviction;

internal static class EvictionPolicyFactory
{
    public static IEvictionPolicy Create(EvictionPolicyKind kind, long capacityBytes) => kind switch
    {
        EvictionPolicyKind.Lru => new LruPolicy(),
        EvictionPolicyKind.Fifo => new FifoPolicy(),
        EvictionPolicyKind.Lfu => new LfuPolicy(),
        EvictionPolicyKind.S3Fifo => new S3FifoPolicy(capacityBytes),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown eviction policy."),
    };
}
