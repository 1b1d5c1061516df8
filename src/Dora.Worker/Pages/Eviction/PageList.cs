namespace Dora.Worker.Pages.Eviction;

/// <summary>An intrusive doubly linked list of pages (links live in <see cref="PageEntry"/>): O(1) without allocation.</summary>
internal sealed class PageList
{
    public PageEntry? First { get; private set; }

    public PageEntry? Last { get; private set; }

    public int Count { get; private set; }

    public long Bytes { get; private set; }

    public void AddFirst(PageEntry entry)
    {
        entry.Previous = null;
        entry.Next = First;
        if (First is not null)
        {
            First.Previous = entry;
        }

        First = entry;
        Last ??= entry;
        Count++;
        Bytes += entry.DiskBytes;
    }

    public void Remove(PageEntry entry)
    {
        if (entry.Previous is not null)
        {
            entry.Previous.Next = entry.Next;
        }
        else
        {
            First = entry.Next;
        }

        if (entry.Next is not null)
        {
            entry.Next.Previous = entry.Previous;
        }
        else
        {
            Last = entry.Previous;
        }

        entry.Previous = null;
        entry.Next = null;
        Count--;
        Bytes -= entry.DiskBytes;
    }

    public void MoveToFirst(PageEntry entry)
    {
        if (First == entry)
        {
            return;
        }

        Remove(entry);
        AddFirst(entry);
    }

    /// <summary>Walks from the tail (oldest) towards the head and removes the first page that can be claimed.</summary>
    public PageEntry? RemoveOldestClaimable(Func<PageEntry, bool> tryClaim)
    {
        for (var entry = Last; entry is not null; entry = entry.Previous)
        {
            if (tryClaim(entry))
            {
                Remove(entry);
                return entry;
            }
        }

        return null;
    }
}
