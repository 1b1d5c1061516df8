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
    /// <summary>How long a LOCATE may take: it is a shortcut, and a worker too slow to answer it is read over the network.</summary>
    private static readonly TimeSpan LocateDeadline = TimeSpan.FromSeconds(1);

    /// <summary>How long a worker whose LOCATE failed is read over the network only.</summary>
    private static readonly TimeSpan LocateCoolDown = TimeSpan.FromSeconds(10);

    private readonly DoraClient _client;
    private readonly int _maxOpenPages;
    private readonly int _pagesPerLocate;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Path, string Version, long Index), LinkedListNode<OpenPage>> _open = [];
    private readonly LinkedList<OpenPage> _recent = []; // most recently read first
    private readonly Dictionary<(string Path, string Version, long Index), (PageLocation Location, string WorkerId)> _known = [];
    private readonly Queue<(string Path, string Version, long Index)> _knownOrder = new();
    private readonly int _maxKnownPages;
    private readonly ConcurrentDictionary<string, string> _elsewhere = new(); // worker id -> why its files are not readable here
    private readonly ConcurrentDictionary<string, long> _coolingUntil = new(); // worker id -> when LOCATE may be tried again
    private int _pageSize;
    private long _bytes;
    private long _locates;

    /// <param name="client">Asks the owners where their pages are.</param>
    /// <param name="maxOpenPages">Page files kept open (256 by default): up to that many evicted pages' disk space stays taken until they are closed.</param>
    /// <param name="pagesPerLocate">Pages asked for in one LOCATE (16 by default), so a sequential reader asks once per that many pages.</param>
    /// <param name="maxKnownPages">Page locations remembered (65,536 by default, a few MiB): a page read again is opened without asking the worker.</param>
    public LocalPageReader(DoraClient client, int maxOpenPages = 1024, int pagesPerLocate = 16, int maxKnownPages = 65_536)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxKnownPages, 1);
        _maxKnownPages = maxKnownPages;
        _client = client ?? throw new ArgumentNullException(nameof(client));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenPages, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pagesPerLocate, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pagesPerLocate, ProtocolConstants.MaxLocatePages);
        _maxOpenPages = maxOpenPages;
        _pagesPerLocate = pagesPerLocate;
    }

    /// <summary>Bytes read from page files so far by <see cref="ReadAsync"/> (pieces handed out are the caller's to count).</summary>
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

    /// <summary>
    /// <c>[offset, offset + length)</c> of the file's <paramref name="version"/> as pieces of open page files, for a
    /// caller that moves the bytes itself (splice); null unless every byte of it is cached by the owner and readable
    /// here. Each piece's file stays open until the result is disposed, whatever the bounded set closes meanwhile.
    /// </summary>
    public async ValueTask<LocalPieces?> TryPiecesAsync(string path, string version, long offset, int length, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(version);
        var pieces = new LocalPieces();
        int done = 0;
        while (done < length)
        {
            long position = offset + done;
            OpenPage? page = Find(path, version, position) ?? await LocateAsync(path, version, position, cancellationToken).ConfigureAwait(false);
            if (page is null || page.Piece(position, length - done) is not { } piece || !pieces.Hold(piece))
            {
                if (page is not null && !page.IsAsChecked())
                {
                    Close(page);
                }

                pieces.Dispose();
                return null;
            }

            done += piece.Count;
        }

        return pieces; // not counted in Bytes: the caller moves them, or reads them again if it cannot
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

    // The page at a position: where it is comes from what earlier LOCATEs said, else from a new LOCATE (which tells of
    // the pages after it too); only the page needed now is opened.
    private async ValueTask<OpenPage?> LocateAsync(string path, string version, long position, CancellationToken cancellationToken)
    {
        int pageSize = Volatile.Read(ref _pageSize);
        if (pageSize > 0 && Known(path, version, position / pageSize) is { } known)
        {
            return OpenKnown(path, version, known.Location, known.WorkerId, pageSize);
        }

        if (_client.ReachableOwnerOf(path) is not { } owner || _elsewhere.ContainsKey(owner.Id) || IsCooling(owner.Id))
        {
            return null;
        }

        LocateReply reply;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(LocateDeadline);
        try
        {
            Interlocked.Increment(ref _locates);
            reply = await _client.LocateAsync(owner, path, position, (long)(pageSize == 0 ? 1 << 20 : pageSize) * _pagesPerLocate, version, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception)
        {
            // Slow, failing or gone: the network read that follows has the failover and the errors to report. LOCATE is
            // only a shortcut, so it is not tried on that worker again for a while.
            _coolingUntil[owner.Id] = Environment.TickCount64 + (long)LocateCoolDown.TotalMilliseconds;
            return null;
        }

        Volatile.Write(ref _pageSize, reply.PageSize);
        PageLocation? wanted = null;
        lock (_lock)
        {
            foreach (PageLocation location in reply.Pages)
            {
                Remember((path, version, location.Index), location, reply.WorkerId);
                if (location.Index == position / reply.PageSize)
                {
                    wanted = location;
                }
            }
        }

        return wanted is null ? null : OpenKnown(path, version, wanted, reply.WorkerId, reply.PageSize);
    }

    private bool IsCooling(string workerId) =>
        _coolingUntil.TryGetValue(workerId, out long until) && (Environment.TickCount64 < until || !_coolingUntil.TryRemove(workerId, out _));

    private (PageLocation Location, string WorkerId)? Known(string path, string version, long index)
    {
        lock (_lock)
        {
            return _known.TryGetValue((path, version, index), out var known) ? known : null;
        }
    }

    // Where a page was said to be, kept for the next reads near it; the oldest are forgotten past the bound.
    private void Remember((string Path, string Version, long Index) key, PageLocation location, string workerId)
    {
        if (_known.TryAdd(key, (location, workerId)))
        {
            _knownOrder.Enqueue(key);
            while (_known.Count > _maxKnownPages && _knownOrder.TryDequeue(out var oldest))
            {
                _known.Remove(oldest);
            }
        }
        else
        {
            _known[key] = (location, workerId);
        }
    }

    private OpenPage? OpenKnown(string path, string version, PageLocation location, string workerId, int pageSize)
    {
        if (!_elsewhere.ContainsKey(workerId) && Open(location, workerId) is { } handle)
        {
            var page = new OpenPage((path, version, location.Index), handle, location, pageSize);
            Add(page);
            return page;
        }

        lock (_lock)
        {
            _known.Remove((path, version, location.Index)); // gone or changed: the next read asks the worker again
        }

        return null;
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

            if (_known.TryGetValue(page.Key, out var known) && known.Location == page.Location)
            {
                _known.Remove(page.Key); // changed since: ask the worker again
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
        /// <summary>Whether the file is still as the worker checked it: same size and change time.</summary>
        public bool IsAsChecked()
        {
            try
            {
                NativeFileStatus status = PosixFiles.Stat(Handle);
                return status.ChangedNs == Location.ChangedNs && status.Length == Location.FileBytes;
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                return false;
            }
        }

        /// <summary>Where the page's bytes from <paramref name="position"/> on are in its file (at most <paramref name="wanted"/>); null when none are, or the file is no longer as checked.</summary>
        public LocalPiece? Piece(long position, int wanted)
        {
            int inPage = (int)(position - (Key.Index * PageSize));
            int count = Math.Min(wanted, Location.Length - inPage);
            return count > 0 && IsAsChecked() ? new LocalPiece(Handle, Location.DataOffset + inPage, count) : null;
        }

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

            if (!IsAsChecked())
            {
                return -1;
            }

            try
            {
                return RandomAccess.Read(Handle, destination[..count], Location.DataOffset + inPage) == count ? count : -1;
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException)
            {
                return -1;
            }
        }
    }
}

/// <summary>Bytes of one page file: <see cref="Count"/> bytes of <see cref="Handle"/> from <see cref="FileOffset"/>.</summary>
public readonly record struct LocalPiece(SafeFileHandle Handle, long FileOffset, int Count);

/// <summary>Pieces of page files, each file held open until this is disposed.</summary>
public sealed class LocalPieces : IDisposable
{
    private readonly List<LocalPiece> _pieces = [];

    public IReadOnlyList<LocalPiece> Pieces => _pieces;

    /// <summary>Total bytes of the pieces.</summary>
    public int Count { get; private set; }

    internal bool Hold(LocalPiece piece)
    {
        bool held = false;
        try
        {
            piece.Handle.DangerousAddRef(ref held);
        }
        catch (ObjectDisposedException)
        {
            return false; // closed by the bounded set meanwhile
        }

        _pieces.Add(piece);
        Count += piece.Count;
        return held;
    }

    public void Dispose()
    {
        foreach (LocalPiece piece in _pieces)
        {
            piece.Handle.DangerousRelease();
        }

        _pieces.Clear();
        Count = 0;
    }
}
