namespace Dora.Worker.Pages.Eviction;

/// <summary>
/// Least frequently used with O(1) operations: pages sit in one list per use count, the count saturating at
/// <see cref="MaxFrequency"/> (as TinyLFU's 4-bit counters do) so that old popularity cannot pin a page forever.
/// Within one count, the least recently used page goes first.
/// </summary>
internal sealed class LfuPolicy : IEvictionPolicy
{
    private const int MaxFrequency = 15;

    private readonly PageList[] _buckets = CreateBuckets();

    public void Add(PageEntry entry)
    {
        entry.Frequency = 0;
        _buckets[0].AddFirst(entry);
    }

    public void Touch(PageEntry entry)
    {
        var bucket = _buckets[entry.Frequency];
        bucket.Remove(entry);
        entry.Frequency = Math.Min(entry.Frequency + 1, MaxFrequency);
        _buckets[entry.Frequency].AddFirst(entry);
    }

    public void Remove(PageEntry entry) => _buckets[entry.Frequency].Remove(entry);

    public PageEntry? Evict(Func<PageEntry, bool> tryClaim)
    {
        foreach (var bucket in _buckets)
        {
            var victim = bucket.RemoveOldestClaimable(tryClaim);
            if (victim is not null)
            {
                return victim;
            }
        }

        return null;
    }

    private static PageList[] CreateBuckets()
    {
        var buckets = new PageList[MaxFrequency + 1];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = new PageList();
        }

        return buckets;
    }
}
