namespace Dora.Worker.Pages.Eviction;

/// <summary>
/// Orders the pages of one cache directory for eviction. Every call is made under that directory's lock, so a
/// policy needs no synchronisation of its own.
/// </summary>
internal interface IEvictionPolicy
{
    /// <summary>A page was written to the directory.</summary>
    void Add(PageEntry entry);

    /// <summary>A page was read.</summary>
    void Touch(PageEntry entry);

    /// <summary>A page left the directory for another reason (invalidation, corruption).</summary>
    void Remove(PageEntry entry);

    /// <summary>
    /// Picks the next page to evict, in policy order, among those <paramref name="tryClaim"/> accepts (it refuses pages
    /// being read). The returned page is already out of the policy. Null when no page could be claimed after looking at
    /// each page at most a bounded number of times.
    /// </summary>
    PageEntry? Evict(Func<PageEntry, bool> tryClaim);
}
