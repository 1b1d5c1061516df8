namespace Dora.Worker.Pages.Eviction;

/// <summary>First in, first out: hits change nothing; eviction takes the oldest written page.</summary>
internal sealed class FifoPolicy : IEvictionPolicy
{
    private readonly PageList _list = new();

    public void Add(PageEntry entry) => _list.AddFirst(entry);

    public void Touch(PageEntry entry)
    {
        // FIFO order is insertion order; reads do not change it.
    }

    public void Remove(PageEntry entry) => _list.Remove(entry);

    public PageEntry? Evict(Func<PageEntry, bool> tryClaim) => _list.RemoveOldestClaimable(tryClaim);
}
