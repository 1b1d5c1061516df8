using Dora.Core.Hashing;

namespace Dora.Fuse;

/// <summary>
/// Inode numbers of the paths the kernel knows. A path's number is derived from the path (XXH64, seed 1; the root is 1),
/// so it is the same every time the path is looked up while mounted, even after the kernel forgot it; only paths the
/// kernel holds (looked up and not yet forgotten) take memory. Two live paths whose hashes collide: the second takes the
/// next seed's hash, which is also stable for as long as the first stays known.
/// </summary>
internal sealed class NodeTable
{
    public const ulong RootInode = 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Node> _byInode = [];
    private readonly Dictionary<string, ulong> _byPath = new(StringComparer.Ordinal);
    private long _versionChanges;

    public NodeTable()
    {
        var root = new Node("/", RootInode) { Lookups = 1 };
        _byInode.Add(RootInode, root);
        _byPath.Add("/", RootInode);
    }

    /// <summary>Inodes the kernel currently holds.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byInode.Count;
            }
        }
    }

    /// <summary>The path of an inode the kernel holds, or null when it is unknown (forgotten, or never given).</summary>
    public string? PathOf(ulong inode)
    {
        lock (_lock)
        {
            return _byInode.TryGetValue(inode, out Node? node) ? node.Path : null;
        }
    }

    /// <summary>The inode of <paramref name="path"/>, counting one more lookup the kernel will FORGET.</summary>
    public ulong Lookup(string path)
    {
        lock (_lock)
        {
            if (_byPath.TryGetValue(path, out ulong known))
            {
                _byInode[known].Lookups++;
                return known;
            }

            for (ulong seed = 1; ; seed++)
            {
                ulong inode = KeyHash.Of(path, seed);
                if (inode <= RootInode || _byInode.ContainsKey(inode))
                {
                    continue;
                }

                _byInode.Add(inode, new Node(path, inode) { Lookups = 1 });
                _byPath.Add(path, inode);
                return inode;
            }
        }
    }

    /// <summary>The inode a path has or will have, without counting a lookup (for READDIR entries).</summary>
    public ulong Peek(string path)
    {
        lock (_lock)
        {
            if (_byPath.TryGetValue(path, out ulong known))
            {
                return known;
            }

            for (ulong seed = 1; ; seed++)
            {
                ulong inode = KeyHash.Of(path, seed);
                if (inode > RootInode && !_byInode.ContainsKey(inode))
                {
                    return inode;
                }
            }
        }
    }

    /// <summary>The kernel dropped <paramref name="count"/> lookups of an inode; at zero it is forgotten.</summary>
    public void Forget(ulong inode, ulong count)
    {
        lock (_lock)
        {
            if (inode == RootInode || !_byInode.TryGetValue(inode, out Node? node))
            {
                return;
            }

            node.Lookups = count >= node.Lookups ? 0 : node.Lookups - count;
            if (node.Lookups == 0)
            {
                _byInode.Remove(inode);
                _byPath.Remove(node.Path);
            }
        }
    }

    /// <summary>
    /// Counts every change of a known file's version; read before and after pushing bytes into the kernel's page cache
    /// to learn whether a newer version was announced meanwhile.
    /// </summary>
    public long VersionChanges => Interlocked.Read(ref _versionChanges);

    /// <summary>
    /// Records the version (ETag) of a file the kernel is about to be told about, and says how it compares with the one
    /// recorded before. Call before writing the reply that carries the new attributes. A null version (the under
    /// storage gave none) never counts as unchanged.
    /// </summary>
    public VersionChange RecordVersion(ulong inode, string? version)
    {
        lock (_lock)
        {
            if (!_byInode.TryGetValue(inode, out Node? node))
            {
                return VersionChange.Unknown;
            }

            if (version is not null && node.Version == version)
            {
                return VersionChange.Unchanged;
            }

            VersionChange change = node.Version is null ? VersionChange.First : VersionChange.Changed;
            node.Version = version;
            Interlocked.Increment(ref _versionChanges);
            return change;
        }
    }

    /// <summary>The version last recorded for an inode, or null (unknown inode, or no version known).</summary>
    public string? VersionOf(ulong inode)
    {
        lock (_lock)
        {
            return _byInode.TryGetValue(inode, out Node? node) ? node.Version : null;
        }
    }

    private sealed class Node(string path, ulong inode)
    {
        /// <summary>The file version whose bytes the kernel may cache for this inode (null: not known yet).</summary>
        public string? Version { get; set; }

        public string Path { get; } = path;

        public ulong Inode { get; } = inode;

        public ulong Lookups { get; set; }
    }
}

/// <summary>How a file's version compares with what the kernel was told before.</summary>
internal enum VersionChange
{
    /// <summary>The inode is not known (forgotten).</summary>
    Unknown,

    /// <summary>The same version as before: bytes the kernel caches for it are still right.</summary>
    Unchanged,

    /// <summary>No version was recorded before.</summary>
    First,

    /// <summary>Another version than before: bytes the kernel caches are of the old one.</summary>
    Changed,
}
