using System.Text;
using Dora.Client;
using Dora.Core.Protocol;
using Dora.Fuse.Kernel;

namespace Dora.Fuse;

/// <summary>
/// One open directory, read through the workers' listing a page at a time, never all in memory. Entry <c>k</c> of the
/// directory (0 and 1 are <c>.</c> and <c>..</c>) carries offset <c>k + 1</c>, where the next READDIR resumes; a READDIR
/// that goes back (rewinddir) starts the listing again.
/// </summary>
internal sealed class DirectoryReader(string path, int pageSize) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private IReadOnlyList<ListEntry> _page = [];
    private long _pageStart = 2;
    private string? _next;
    private bool _started;

    /// <summary>
    /// Writes the entries from <paramref name="offset"/> on that fit: <c>fuse_dirent</c>s, or with
    /// <paramref name="plus"/> (READDIRPLUS) <c>fuse_direntplus</c>es, each entry's attributes from the listing and
    /// counted as a lookup, which spares the kernel a LOOKUP per name.
    /// </summary>
    public async Task<int> FillAsync(DoraClient client, NodeTable nodes, ulong self, long offset, Memory<byte> destination, bool plus, Func<ulong, ListEntry, FuseStructs.Attributes> attributes, TimeSpan valid, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int written = 0;
            long index = offset;
            while (true)
            {
                if (index < 2)
                {
                    ReadOnlySpan<byte> dots = index == 0 ? "."u8 : ".."u8;
                    ulong inode = index == 0 ? self : NodeTable.RootInode;
                    if (!Fits(destination.Length - written, dots.Length, plus))
                    {
                        return written;
                    }

                    if (plus)
                    {
                        // The kernel links neither . nor ..: no attributes, no lookup to count.
                        destination.Span.Slice(written, FuseStructs.EntryOutSize).Clear();
                        written += FuseStructs.EntryOutSize;
                    }

                    written += FuseStructs.WriteDirent(destination.Span[written..], inode, (ulong)index + 1, isDirectory: true, dots);
                    index++;
                    continue;
                }

                if (!_started || index < _pageStart)
                {
                    await LoadAsync(client, after: null, start: 2, cancellationToken).ConfigureAwait(false);
                }

                while (index >= _pageStart + _page.Count)
                {
                    if (_next is null)
                    {
                        return written; // the end of the directory
                    }

                    await LoadAsync(client, _next, _pageStart + _page.Count, cancellationToken).ConfigureAwait(false);
                }

                ListEntry entry = _page[(int)(index - _pageStart)];
                byte[] name = Encoding.UTF8.GetBytes(entry.Name);
                if (!Fits(destination.Length - written, name.Length, plus))
                {
                    return written;
                }

                string child = path == "/" ? "/" + entry.Name : path + "/" + entry.Name;
                ulong childInode;
                if (plus)
                {
                    childInode = nodes.Lookup(child);
                    FuseStructs.WriteEntryOut(destination.Span[written..], attributes(childInode, entry), valid);
                    written += FuseStructs.EntryOutSize;
                }
                else
                {
                    childInode = nodes.Peek(child);
                }

                written += FuseStructs.WriteDirent(destination.Span[written..], childInode, (ulong)index + 1, entry.IsDirectory, name);
                index++;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private static bool Fits(int room, int nameBytes, bool plus) => FuseStructs.DirentSize(nameBytes) + (plus ? FuseStructs.EntryOutSize : 0) <= room;

    private async Task LoadAsync(DoraClient client, string? after, long start, CancellationToken cancellationToken)
    {
        ListReply reply = await client.ListAsync(path, after, pageSize, cancellationToken).ConfigureAwait(false);
        _page = reply.Entries;
        _next = reply.Next;
        _pageStart = start;
        _started = true;
    }
}
