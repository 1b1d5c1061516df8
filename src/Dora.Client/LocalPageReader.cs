using System.Collections.Concurrent;
using Dora.Core.Errors;
using Dora.Core.Native;
using Dora.Core.Protocol;
using Dora.Registry;
using Microsoft.Win32.SafeHandles;

namespace Dora.Client;

/// <summary>
/// Short-circuit reads for a client on the same host as the owner worker (a FUSE mount or a training job next to a
/// worker): the worker's cached pages are read from their files, as the worker's own zero-copy sends read them, instead
/// of travelling through TCP. LOCATE (docs/protocol.md) asks the owner where the pages of a file version are; each page
/// file is opened once, used only if it is the very file the worker checked (device, inode, size and change time,
/// compared again before every read), and kept open in a bounded set. An open page file stays readable after the
/// worker evicts it and page files are never written in place, so what it holds stays that page of that version.
/// Pages that are not cached, and workers whose files this host cannot see, are left to the caller's network read.
/// </summary>
public sealed class LocalPageReader : IDisposable
{
    private readonly DoraClient _client;
    private readonly int _maxOpenPages;
    private readonly int _pagesPerLocate;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Path, string Version, long Index), LinkedListNode<OpenPage>> _open = [];
    private readonly LinkedList<OpenPage> _recent = []; // most recently read first
    private readonly ConcurrentDictionary<string, string> _elsewhere = new(); // worker id -> why its files are not readable here
    private int _pageSize;
    private long _bytes;
    private long _locates;

    /// <param name="client">Asks the owners where their pages are.</param>
    /// <param name="maxOpenPages">Page files kept open (256 by default): up to that many evicted pages' disk space stays taken until they are closed.</param>
    /// <param name="pagesPerLocate">Pages asked for in one LOCATE (16 by default), so a sequential reader asks once per that many pages.</param>
    public LocalPageReader(DoraClient client, int maxOpenPages = 256, int pagesPerLocate = 16)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenPages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pagesPerLocate, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pagesPerLocate, ProtocolConstants.MaxLocatePages);
        _maxOpenPages = maxOpenPages;
        _pagesPerLocate = pagesPerLocate;
    }

    /// <summary>Bytes read from page files so far.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>LOCATE requests sent so far.</summary>
    public long Locates => Interlocked.Read(ref _locates);

    /// <summary>
    /// Reads from the start of <c>[offset, offset + destination.Length)</c> of the file's <paramref name="version"/> as
    /// far as its pages are cached by the owner and readable here; returns how many bytes that was (0 when none): the
    /// caller reads the rest over the network.
    /// </summary>
    public async ValueTask<int> ReadAsync(string path, string version, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        int done = 0;
        while (done < destination.Length)
        {
            long position = offset + done;
            OpenPage? page = Find(path, version, position) ?? await LocateAsync(path, version, position, cancellationToken).ConfigureAwait(false);
            int read = page?.Read(position, destination.Span[done..]) ?? 0;
            if (read <= 0)
            {
                if (read < 0)
                {
                    Close(page!);
                }

                break;
            }

            done += read;
        }

        Interlocked.Add(ref _bytes, done);
        return done;
    }

    private OpenPage? Find(string path, string version, long position)
    {
        int pageSize = Volatile.Read(ref _pageSize);
        if (pageSize == 0)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_open.TryGetValue((path, version, position / pageSize), out LinkedListNode<OpenPage>? node))
            {
                return null;
            }

            _recent.Remove(node);
            _recent.AddFirst(node);
            return node.Value;
        }
    }

    private async ValueTask<OpenPage?> LocateAsync(string path, string version, long position, CancellationToken cancellationToken)
    {
        WorkerRecord[] owners = _client.Cluster.OwnersOf(path, 1);
        if (owners.Length == 0 || _elsewhere.ContainsKey(owners[0].Id))
        {
            return null;
        }

        LocateReply reply;
        try
        {
            Interlocked.Increment(ref _locates);
            int pageSize = Volatile.Read(ref _pageSize);
            reply = await _client.LocateAsync(owners[0], path, position, (long)(pageSize == 0 ? 1 << 20 : pageSize) * _pagesPerLocate, version, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DoraException or IOException)
        {
            return null; // the network read that follows meets the same problem and reports it, or fails over
        }

        Volatile.Write(ref _pageSize, reply.PageSize);
        foreach (PageLocation location in reply.Pages)
        {
            if (!_elsewhere.ContainsKey(reply.WorkerId) && Open(location, reply.WorkerId) is { } handle)
            {
                Add(new OpenPage((path, version, location.Index), handle, location, reply.PageSize));
            }
        }

        return Find(path, version, position);
    }

    // The page file if it is the one the worker described; a file this host cannot see (or another file at that
    // path, on a host that is not the worker's) means the worker's pages are read over the network from now on.
    private SafeFileHandle? Open(PageLocation location, string workerId)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(location.File, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null; // evicted since the worker answered
        }
        catch (Exception e) when (e is DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            _elsewhere.TryAdd(workerId, e.Message);
            return null;
        }

        NativeFileStatus status = PosixFiles.Stat(handle);
        if (status.Device != location.Device || status.Inode != location.Inode)
        {
            _elsewhere.TryAdd(workerId, $"{location.File} here is not the worker's file");
            handle.Dispose();
            return null;
        }

        if (status.ChangedNs != location.ChangedNs || status.Length != location.FileBytes)
        {
            handle.Dispose(); // written to since the worker checked it: the worker checks it again on the network read
            return null;
        }

        return handle;
    }

    private void Add(OpenPage page)
    {
        OpenPage? closed = null, replaced = null;
        lock (_lock)
        {
            if (_open.Remove(page.Key, out LinkedListNode<OpenPage>? old))
            {
                _recent.Remove(old);
                replaced = old.Value;
            }

            _open[page.Key] = _recent.AddFirst(page);
            if (_open.Count > _maxOpenPages)
            {
                LinkedListNode<OpenPage> last = _recent.Last!;
                _recent.RemoveLast();
                _open.Remove(last.Value.Key);
                closed = last.Value;
            }
        }

        replaced?.Handle.Dispose();
        closed?.Handle.Dispose();
    }

    private void Close(OpenPage page)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(page.Key, out LinkedListNode<OpenPage>? node) && node.Value == page)
            {
                _open.Remove(page.Key);
                _recent.Remove(node);
            }
        }

        page.Handle.Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (OpenPage page in _recent)
            {
                page.Handle.Dispose();
            }

            _open.Clear();
            _recent.Clear();
        }
    }

    /// <summary>One open page file and where its bytes are.</summary>
    private sealed record OpenPage((string Path, string Version, long Index) Key, SafeFileHandle Handle, PageLocation Location, int PageSize)
    {
        /// <summary>
        /// Copies the page's bytes from <paramref name="position"/> on; 0 past the page's end (the file's end), -1 when
        /// the file is no longer as the worker checked it (or was closed meanwhile): then read over the network.
        /// </summary>
        public int Read(long position, Span<byte> destination)
        {
            int inPage = (int)(position - (Key.Index * PageSize));
            int count = Math.Min(destination.Length, Location.Length - inPage);
            if (count <= 0)
            {
                return 0;
            }

            try
            {
                NativeFileStatus status = PosixFiles.Stat(Handle);
                if (status.ChangedNs != Location.ChangedNs || status.Length != Location.FileBytes)
                {
                    return -1;
                }

                return RandomAccess.Read(Handle, destination[..count], Location.DataOffset + inPage) == count ? count : -1;
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                return -1;
            }
        }
    }
}
