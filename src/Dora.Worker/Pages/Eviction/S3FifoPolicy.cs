namespace Dora.Worker.Pages.Eviction;

/// <summary>
/// S3-FIFO (Yang et al., SOSP 2023): new pages enter a small FIFO (10% of the quota); those read again while there
/// move to the main FIFO, the rest leave and are remembered in a ghost queue so that a quick return goes straight to
/// main. Main reinserts a page that was read since its last pass. One-off scans thus flow through the small queue
/// without flushing the hot set.
/// </summary>
internal sealed class S3FifoPolicy : IEvictionPolicy
{
    private const byte SmallQueue = 0;
    private const byte MainQueue = 1;
    private const int MaxFrequency = 3;

    private readonly PageList _small = new();
    private readonly PageList _main = new();
    private readonly long _smallTargetBytes;

    // Keys of pages recently evicted from the small queue, bounded to the main queue's page count.
    private readonly HashSet<PageKey> _ghostSet = [];
    private readonly Queue<PageKey> _ghostOrder = new();

    public S3FifoPolicy(long capacityBytes)
    {
        _smallTargetBytes = Math.Max(1, capacityBytes / 10);
    }

    public void Add(PageEntry entry)
    {
        entry.Frequency = 0;
        if (_ghostSet.Remove(entry.Key))
        {
            entry.Queue = MainQueue;
            _main.AddFirst(entry);
        }
        else
        {
            entry.Queue = SmallQueue;
            _small.AddFirst(entry);
        }
    }

    public void Touch(PageEntry entry) => entry.Frequency = Math.Min(entry.Frequency + 1, MaxFrequency);

    public void Remove(PageEntry entry) => QueueOf(entry).Remove(entry);

    public PageEntry? Evict(Func<PageEntry, bool> tryClaim)
    {
        // Each page is looked at a bounded number of times: a frequency can drop at most MaxFrequency times and a
        // pinned page is rotated once per pass, so the loop ends even when every page is being read.
        var budget = (_small.Count + _main.Count) * (MaxFrequency + 2);
        while (budget-- > 0 && (_small.Count > 0 || _main.Count > 0))
        {
            var fromSmall = _small.Count > 0 && (_small.Bytes >= _smallTargetBytes || _main.Count == 0);
            var victim = fromSmall ? EvictFromSmall(tryClaim) : EvictFromMain(tryClaim);
            if (victim is not null)
            {
                return victim;
            }
        }

        return null;
    }

    private PageEntry? EvictFromSmall(Func<PageEntry, bool> tryClaim)
    {
        var tail = _small.Last!;
        _small.Remove(tail);
        if (tail.Frequency > 0)
        {
            tail.Frequency = 0;
            tail.Queue = MainQueue;
            _main.AddFirst(tail);
            return null;
        }

        if (!tryClaim(tail))
        {
            _small.AddFirst(tail);
            return null;
        }

        RememberGhost(tail.Key);
        return tail;
    }

    private PageEntry? EvictFromMain(Func<PageEntry, bool> tryClaim)
    {
        var tail = _main.Last!;
        if (tail.Frequency > 0)
        {
            tail.Frequency--;
            _main.MoveToFirst(tail);
            return null;
        }

        if (!tryClaim(tail))
        {
            _main.MoveToFirst(tail);
            return null;
        }

        _main.Remove(tail);
        return tail;
    }

    private void RememberGhost(PageKey key)
    {
        if (!_ghostSet.Add(key))
        {
            return;
        }

        _ghostOrder.Enqueue(key);
        var limit = Math.Max(_main.Count, 64);
        while (_ghostOrder.Count > limit)
        {
            _ghostSet.Remove(_ghostOrder.Dequeue());
        }
    }

    private PageList QueueOf(PageEntry entry) => entry.Queue == MainQueue ? _main : _small;
}
