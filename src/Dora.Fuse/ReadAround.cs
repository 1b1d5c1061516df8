using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Dora.Fuse.Kernel;

namespace Dora.Fuse;

/// <summary>
/// Read-around for small reads. A READ smaller than the window that missed the kernel's page cache fetches the whole
/// aligned window around it (default one worker page, 1 MiB) in one read from the worker; the READ is answered from it,
/// and the window is then handed to the kernel's page cache with FUSE_NOTIFY_STORE, so the random reads that follow
/// nearby (Parquet footers and column chunks, tar indexes, sampled records) are answered by the kernel without a
/// request. Concurrent misses in one window share one fetch.
/// </summary>
/// <remarks>
/// Bounded: at most <see cref="FuseMountOptions.MaxReadAroundWindows"/> windows are held (being fetched, read from or
/// waiting to be pushed); past that, a READ fetches only what it asked for. Pushes run on one thread of their own
/// because the kernel holds the page a READ asks for locked until that READ is answered, and a push into a locked page
/// waits for it; no request ever waits for a push, so that wait always ends.
/// </remarks>
internal sealed class ReadAround : IDisposable
{
    /// <summary><c>fuse_out_header</c> then <c>struct fuse_notify_store_out { u64 nodeid; u64 offset; u32 size; u32 padding; }</c>.</summary>
    private const int StoreHeaderBytes = FuseStructs.OutHeaderSize + 24;

    private readonly FuseDevice _device;
    private readonly NodeTable _nodes;
    private readonly int _window;
    private readonly int _maxWindows;
    private readonly ConcurrentDictionary<(ulong Inode, long Index), Window> _windows = new();
    private readonly BlockingCollection<Window> _pushes = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _pusher;
    private readonly ArrayPool<byte> _buffers;
    private int _held;
    private long _pushedBytes;

    public ReadAround(FuseDevice device, NodeTable nodes, int window, int maxWindows)
    {
        _device = device;
        _nodes = nodes;
        _window = window;
        _maxWindows = maxWindows;
        _buffers = ArrayPool<byte>.Create(window, maxWindows);
        _pusher = new Thread(Push) { IsBackground = true, Name = "dora-fuse-push" };
        _pusher.Start();
    }

    /// <summary>Bytes handed to the kernel's page cache so far.</summary>
    public long PushedBytes => Interlocked.Read(ref _pushedBytes);

    /// <summary>
    /// Whether a READ of <paramref name="size"/> bytes at <paramref name="offset"/> is read around: at most an eighth of
    /// a window (128 KiB of 1 MiB), within one window. Larger reads already carry their own cost well, and a window
    /// of copies for each of them is wasted when the reader never comes back near (measured: 256 KiB random reads by
    /// 16 jobs ran at 0.53x bindfs read around, against 1.68x for one job).
    /// </summary>
    public bool Covers(long offset, int size) => size <= _window / 8 && offset / _window == (offset + size - 1) / _window;

    /// <summary>
    /// Joins (or starts) the fetch of the window around <paramref name="offset"/> of a file's <paramref name="version"/>;
    /// null when the window cannot be read around now (every window slot held, or another version of the file is
    /// being read there): read only what was asked then. Dispose the lease once the reply is written.
    /// </summary>
    public Window? TryJoin(ulong inode, string? version, long fileLength, long offset, Func<long, Memory<byte>, CancellationToken, Task<int>> fetch)
    {
        var key = (inode, offset / _window);
        while (true)
        {
            if (_windows.TryGetValue(key, out Window? running))
            {
                return running.Version == version && running.TryAcquire() ? running : null;
            }

            if (Interlocked.Increment(ref _held) > _maxWindows)
            {
                Interlocked.Decrement(ref _held);
                return null;
            }

            long start = key.Item2 * _window;
            var created = new Window(this, key, version, start, (int)Math.Min(_window, fileLength - start));
            if (_windows.TryAdd(key, created))
            {
                _ = created.FetchAsync(fetch, _stopping.Token);
                return created;
            }

            created.Release(); // another READ started this window first: join it
            created.Release();
        }
    }

    private void Push()
    {
        try
        {
            foreach (Window window in _pushes.GetConsumingEnumerable(_stopping.Token))
            {
                try
                {
                    window.Store();
                }
                finally
                {
                    _windows.TryRemove(new KeyValuePair<(ulong, long), Window>(window.Key, window));
                    window.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Unmounting.
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _pusher.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>One window being fetched, read from and pushed; its buffer returns to the pool when the last holder lets go.</summary>
    internal sealed class Window : IDisposable
    {
        private readonly ReadAround _owner;
        private readonly byte[] _buffer;
        private readonly TaskCompletionSource _fetched = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private int _holders = 2; // the fetch-and-push path, and the READ that started it
        private int _length;

        internal Window(ReadAround owner, (ulong Inode, long Index) key, string? version, long start, int capacity)
        {
            _owner = owner;
            Key = key;
            Version = version;
            Start = start;
            _buffer = owner._buffers.Rent(Math.Max(capacity, 1));
            Capacity = capacity;
        }

        public (ulong Inode, long Index) Key { get; }

        public string? Version { get; }

        /// <summary>Where the window starts in the file.</summary>
        public long Start { get; }

        private int Capacity { get; }

        /// <summary>The window's bytes once fetched (shorter than the window at the end of the file).</summary>
        public async ValueTask<ReadOnlyMemory<byte>> BytesAsync(CancellationToken cancellationToken)
        {
            await _fetched.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return _buffer.AsMemory(0, _length);
        }

        internal async Task FetchAsync(Func<long, Memory<byte>, CancellationToken, Task<int>> fetch, CancellationToken stopping)
        {
            try
            {
                // The window's own token: one READ being interrupted must not fail the others waiting on this fetch.
                _length = await fetch(Start, _buffer.AsMemory(0, Capacity), stopping).ConfigureAwait(false);
                _fetched.SetResult();
                _owner._pushes.Add(this, CancellationToken.None); // never blocks: the collection is unbounded, the windows are not
            }
            catch (Exception e)
            {
                _fetched.SetException(e);
                _owner._windows.TryRemove(new KeyValuePair<(ulong, long), Window>(Key, this));
                Release();
            }
        }

        /// <summary>
        /// Hands the window to the kernel's page cache, unless the file's version changed since it was read; if it
        /// changed while the bytes were being handed over, the inode's cache is dropped again.
        /// </summary>
        internal void Store()
        {
            NodeTable nodes = _owner._nodes;
            if (_length == 0 || Version is null || nodes.VersionOf(Key.Inode) != Version)
            {
                return;
            }

            long changesBefore = nodes.VersionChanges;
            Span<byte> store = stackalloc byte[StoreHeaderBytes];
            FuseStructs.WriteOutHeader(store, StoreHeaderBytes + _length, FuseStructs.NotifyStore, 0);
            BinaryPrimitives.WriteUInt64LittleEndian(store[16..], Key.Inode);
            BinaryPrimitives.WriteUInt64LittleEndian(store[24..], (ulong)Start);
            BinaryPrimitives.WriteUInt32LittleEndian(store[32..], (uint)_length);
            BinaryPrimitives.WriteUInt32LittleEndian(store[36..], 0);
            if (_owner._device.Write(store, _buffer.AsSpan(0, _length)))
            {
                Interlocked.Add(ref _owner._pushedBytes, _length);
            }

            if (nodes.VersionChanges != changesBefore && nodes.VersionOf(Key.Inode) != Version)
            {
                _owner._device.InvalidateData(Key.Inode);
            }
        }

        internal bool TryAcquire()
        {
            lock (_lock)
            {
                if (_holders == 0)
                {
                    return false;
                }

                _holders++;
                return true;
            }
        }

        internal void Release()
        {
            lock (_lock)
            {
                if (--_holders > 0)
                {
                    return;
                }
            }

            _owner._buffers.Return(_buffer);
            Interlocked.Decrement(ref _owner._held);
        }

        /// <summary>The READ that held the window has written its reply.</summary>
        public void Dispose() => Release();
    }
}
