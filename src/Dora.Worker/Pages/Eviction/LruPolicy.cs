namespace Dora.Worker.Pages.Eviction;

/// <summary>Least recently used: a hit moves the page to the head; eviction takes from the tail.</summary>
internal sealed class LruPolicy : IEvictionPolicy
{
    private readonly PageList _list = new();

    public void Add(PageEntry entry) => _list.AddFirst(entry);

    public void Touch(PageEntry entry) => _list.MoveToFirst(entry);

    public void Remove(PageEntry entry) => _list.Remove(entry);

    public PageEntry? Evict(Func<PageEntry, bool> tryClaim) => _list.RemoveOldestClaimable(tryClaim);
}
