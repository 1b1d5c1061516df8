namespace Dora.Worker.Metadata;

/// <summary>
/// Level 1: entries in memory, at most <c>maxEntries</c> of them (least recently used go first), each for at most
/// <c>ttl</c> after it was stored. One lock; every operation is O(1) except prefix invalidation.
/// </summary>
internal sealed class MemoryMetadataCache
{
    private readonly int _maxEntries;
    private readonly long _ttlMs;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, MetadataEntry Entry)>> _map = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, MetadataEntry Entry)> _order = new();

    public MemoryMetadataCache(int maxEntries, TimeSpan ttl)
    {
        _maxEntries = maxEntries;
        _ttlMs = (long)ttl.TotalMilliseconds;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(string key, long nowMs, out MetadataEntry entry)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                if (nowMs - node.Value.Entry.StoredAtMs < _ttlMs)
                {
                    _order.Remove(node);
                    _order.AddFirst(node);
                    entry = node.Value.Entry;
                    return true;
                }

                _map.Remove(key);
                _order.Remove(node);
            }
        }

        entry = null!;
        return false;
    }

    public void Set(string key, MetadataEntry entry)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                node.Value = (key, entry);
                _order.Remove(node);
                _order.AddFirst(node);
                return;
            }

            _map.Add(key, _order.AddFirst((key, entry)));
            while (_map.Count > _maxEntries)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }

    /// <summary>Marks every entry whose key <paramref name="matches"/> as needing revalidation; drops listings.</summary>
    public void Invalidate(Func<string, bool> matches)
    {
        lock (_lock)
        {
            var node = _order.First;
            while (node is not null)
            {
                var next = node.Next;
                if (matches(node.Value.Key))
                {
                    if (node.Value.Entry.Kind == MetadataEntryKind.Listing)
                    {
                        _map.Remove(node.Value.Key);
                        _order.Remove(node);
                    }
                    else
                    {
                        node.Value = (node.Value.Key, node.Value.Entry.Invalidated());
                    }
                }

                node = next;
            }
        }
    }
}
