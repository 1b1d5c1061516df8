using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Dora.Client;
using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Protocol;
using Dora.Fuse.Kernel;
using Microsoft.Extensions.Logging;

namespace Dora.Fuse;

/// <summary>
/// The Dora namespace as a read-only FUSE file system: requests read from <c>/dev/fuse</c> by a few threads and served
/// concurrently; every byte read from the owner worker through <see cref="DoraClient"/> (its routing and failover).
/// </summary>
public sealed partial class DoraFuseFileSystem : IAsyncDisposable
{
    /// <summary>The <c>max_write</c> negotiated: writes are refused, but the kernel sizes its checks by it.</summary>
    private const int MaxWrite = 64 << 10;

    /// <summary>
    /// Room for any request. The kernel refuses (EINVAL) a read(2) of /dev/fuse into less than a header, a
    /// <c>fuse_write_in</c> and <c>max_write</c> bytes, whether or not writes ever come.
    /// </summary>
    private const int RequestBufferBytes = MaxWrite + (16 << 10);

    /// <summary>
    /// Buffers of READ replies: up to 1 MiB (the largest READ), and at most 64 kept (one per request served at once),
    /// so a burst of large reads reuses them instead of allocating.
    /// </summary>
    private static readonly ArrayPool<byte> ReadBuffers = ArrayPool<byte>.Create(1 << 20, 64);

    private readonly DoraClient _client;
    private readonly FuseMountOptions _options;
    private readonly ILogger _logger;
    private readonly NodeTable _nodes = new();
    private readonly ConcurrentDictionary<ulong, OpenFile> _files = new();
    private readonly ConcurrentDictionary<ulong, DirectoryReader> _directories = new();
    private readonly ConcurrentDictionary<ulong, CancellationTokenSource> _running = new();
    private readonly SemaphoreSlim _slots;
    private readonly TaskCompletionSource _destroyed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Thread> _readers = [];
    private FuseDevice? _device;
    private ReadAround? _readAround;
    private readonly LocalPageReader? _local;
    private SplicePipes? _pipes;
    private long _splicedBytes;
    private long _nextHandle;
    private long _requests;
    private long _reads;
    private long _readBytes;

    public DoraFuseFileSystem(DoraClient client, FuseMountOptions options, ILogger logger)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _slots = new SemaphoreSlim(options.MaxConcurrentRequests);
        _local = options.LocalReads ? new LocalPageReader(client) : null;
    }

    /// <summary>Completes when the kernel ends the session (unmounted by anyone, or DESTROY).</summary>
    public Task Completion => _destroyed.Task;

    /// <summary>What was served so far, for the status line.</summary>
    public FuseCounters Counters => new(Interlocked.Read(ref _requests), Interlocked.Read(ref _reads), Interlocked.Read(ref _readBytes), _readAround?.PushedBytes ?? 0, (_local?.Bytes ?? 0) + Interlocked.Read(ref _splicedBytes), Interlocked.Read(ref _splicedBytes), _nodes.Count);

    /// <summary>Checks the mount point, mounts and starts serving.</summary>
    /// <exception cref="IOException">The mount point is missing, not a directory or not empty, or the mount failed.</exception>
    public void Start()
    {
        string mountPoint = _options.MountPoint;
        if (!Directory.Exists(mountPoint))
        {
            throw new IOException(File.Exists(mountPoint)
                ? $"the mount point {mountPoint} is a file, not a directory"
                : $"the mount point {mountPoint} does not exist: create an empty directory first");
        }

        if (Directory.EnumerateFileSystemEntries(mountPoint).Any())
        {
            throw new IOException($"the mount point {mountPoint} is not empty: mount on an empty directory (nothing there would be visible while mounted)");
        }

        _device = FuseDevice.Mount(mountPoint, _options.Uid, _options.Gid, _options.AllowOther, _options.MaxRead);
        if (_local is not null)
        {
            _pipes = SplicePipes.TryCreate(out string? problem);
            if (_pipes is null)
            {
                FuseLog.NoSplice(_logger, problem!);
            }
        }

        if (_options.ReadAround > 0 && _options.Consistency != ConsistencyMode.Always)
        {
            _readAround = new ReadAround(_device, _nodes, _options.ReadAround, _options.MaxReadAroundWindows);
        }

        for (int i = 0; i < Math.Max(1, _options.ReaderThreads); i++)
        {
            var thread = new Thread(ReadRequests) { IsBackground = true, Name = $"dora-fuse-{i}" };
            _readers.Add(thread);
            thread.Start();
        }
    }

    private void ReadRequests()
    {
        byte[] buffer = new byte[RequestBufferBytes];
        try
        {
            while (true)
            {
                int length = _device!.Read(buffer);
                if (length == 0)
                {
                    _destroyed.TrySetResult();
                    return;
                }

                if (length < FuseStructs.InHeaderSize)
                {
                    continue;
                }

                // The request is copied so this thread can read the next one while it is served.
                byte[] request = ArrayPool<byte>.Shared.Rent(length);
                buffer.AsSpan(0, length).CopyTo(request);
                var header = FuseStructs.InHeader.Read(request);
                Interlocked.Increment(ref _requests);
                _ = ServeAsync(header, request, length);
            }
        }
        catch (Exception e)
        {
            FuseLog.DeviceFailed(_logger, e.Message);
            _destroyed.TrySetResult();
        }
    }

    private async Task ServeAsync(FuseStructs.InHeader header, byte[] request, int length)
    {
        try
        {
            ReadOnlyMemory<byte> body = request.AsMemory(FuseStructs.InHeaderSize, length - FuseStructs.InHeaderSize);
            switch (header.Opcode)
            {
                case FuseOpcode.Forget:
                    _nodes.Forget(header.NodeId, BinaryPrimitives.ReadUInt64LittleEndian(body.Span));
                    return; // no reply
                case FuseOpcode.BatchForget:
                    BatchForget(body.Span);
                    return; // no reply
                case FuseOpcode.Interrupt:
                    if (_running.TryGetValue(BinaryPrimitives.ReadUInt64LittleEndian(body.Span), out CancellationTokenSource? interrupted))
                    {
                        interrupted.Cancel();
                    }

                    return; // the interrupted request answers EINTR
            }

            using var cancellation = new CancellationTokenSource();
            _running[header.Unique] = cancellation;
            await _slots.WaitAsync(cancellation.Token).ConfigureAwait(false);
            try
            {
                await DispatchAsync(header, body, cancellation.Token).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
                _running.TryRemove(header.Unique, out _);
            }
        }
        catch (OperationCanceledException)
        {
            ReplyError(header.Unique, Errno.EINTR);
        }
        catch (Exception e)
        {
            ReplyError(header.Unique, ErrnoOf(e, header));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(request);
        }
    }

    private Task DispatchAsync(FuseStructs.InHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        switch (header.Opcode)
        {
            case FuseOpcode.Init:
                Init(header, body.Span);
                return Task.CompletedTask;
            case FuseOpcode.Destroy:
                ReplyEmpty(header.Unique);
                _destroyed.TrySetResult();
                return Task.CompletedTask;
            case FuseOpcode.Lookup:
                return LookupAsync(header, body, cancellationToken);
            case FuseOpcode.GetAttr:
                return GetAttrAsync(header, cancellationToken);
            case FuseOpcode.Open:
                return OpenAsync(header, body, cancellationToken);
            case FuseOpcode.Read:
                return ReadAsync(header, body, cancellationToken);
            case FuseOpcode.Release:
                _files.TryRemove(BinaryPrimitives.ReadUInt64LittleEndian(body.Span), out _);
                ReplyEmpty(header.Unique);
                return Task.CompletedTask;
            case FuseOpcode.OpenDir:
                return OpenDirAsync(header, cancellationToken);
            case FuseOpcode.ReadDir:
                return ReadDirAsync(header, body, plus: false, cancellationToken);
            case FuseOpcode.ReadDirPlus:
                return ReadDirAsync(header, body, plus: true, cancellationToken);
            case FuseOpcode.ReleaseDir:
                if (_directories.TryRemove(BinaryPrimitives.ReadUInt64LittleEndian(body.Span), out DirectoryReader? released))
                {
                    released.Dispose();
                }

                ReplyEmpty(header.Unique);
                return Task.CompletedTask;
            case FuseOpcode.StatFs:
                StatFs(header);
                return Task.CompletedTask;
            case FuseOpcode.Access:
                Access(header, body.Span);
                return Task.CompletedTask;
            case FuseOpcode.GetXAttr:
            case FuseOpcode.ListXAttr:
                XAttr(header, body.Span);
                return Task.CompletedTask;
            case FuseOpcode.Flush:
            case FuseOpcode.Fsync:
            case FuseOpcode.FsyncDir:
                ReplyEmpty(header.Unique); // nothing is ever written, so there is nothing to flush
                return Task.CompletedTask;
            case FuseOpcode.SetAttr:
            case FuseOpcode.Symlink:
            case FuseOpcode.MkNod:
            case FuseOpcode.MkDir:
            case FuseOpcode.Unlink:
            case FuseOpcode.RmDir:
            case FuseOpcode.Rename:
            case FuseOpcode.Rename2:
            case FuseOpcode.Link:
            case FuseOpcode.Write:
            case FuseOpcode.SetXAttr:
            case FuseOpcode.RemoveXAttr:
            case FuseOpcode.Create:
            case FuseOpcode.FAllocate:
            case FuseOpcode.CopyFileRange:
                ReplyError(header.Unique, Errno.EROFS);
                return Task.CompletedTask;
            default:
                ReplyError(header.Unique, Errno.ENOSYS);
                return Task.CompletedTask;
        }
    }

    private void BatchForget(ReadOnlySpan<byte> body)
    {
        // struct fuse_batch_forget_in { u32 count; u32 dummy; } then count x struct fuse_forget_one { u64 nodeid; u64 nlookup; }
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(body);
        for (int i = 0; i < count && 8 + (16 * (i + 1)) <= body.Length; i++)
        {
            ReadOnlySpan<byte> one = body[(8 + (16 * i))..];
            _nodes.Forget(BinaryPrimitives.ReadUInt64LittleEndian(one), BinaryPrimitives.ReadUInt64LittleEndian(one[8..]));
        }
    }

    private void Init(FuseStructs.InHeader header, ReadOnlySpan<byte> body)
    {
        // struct fuse_init_in { u32 major; u32 minor; u32 max_readahead; u32 flags; ... }
        uint major = BinaryPrimitives.ReadUInt32LittleEndian(body);
        uint minor = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
        uint maxReadahead = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
        uint offered = BinaryPrimitives.ReadUInt32LittleEndian(body[12..]);
        if (major != FuseStructs.Major || minor < FuseStructs.MinimumMinor)
        {
            FuseLog.UnsupportedKernel(_logger, major, minor);
            ReplyError(header.Unique, Errno.EINVAL);
            return;
        }

        uint wanted = FuseStructs.AsyncRead | FuseStructs.MaxPages | FuseStructs.ParallelDirOps | FuseStructs.DoReadDirPlus | FuseStructs.ReadDirPlusAuto
            | (_options.Consistency == ConsistencyMode.Ttl ? FuseStructs.AutoInvalData : 0);
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + FuseStructs.InitOutSize];
        reply.Clear();
        Span<byte> init = reply[FuseStructs.OutHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(init, FuseStructs.Major);
        BinaryPrimitives.WriteUInt32LittleEndian(init[4..], Math.Min(minor, FuseStructs.Minor));
        // Read-ahead READs sized so that a spliced reply fits the pipes this system gives (1,020 KiB with 1 MiB pipes);
        // READs the reader asks for itself may still be max_read.
        uint readahead = Math.Min(maxReadahead, (uint)Math.Min(_options.MaxRead, _pipes?.MaxReplyBytes ?? int.MaxValue));
        BinaryPrimitives.WriteUInt32LittleEndian(init[8..], readahead);
        BinaryPrimitives.WriteUInt32LittleEndian(init[12..], offered & wanted);
        BinaryPrimitives.WriteUInt16LittleEndian(init[16..], 64); // max_background
        BinaryPrimitives.WriteUInt16LittleEndian(init[18..], 48); // congestion_threshold
        BinaryPrimitives.WriteUInt32LittleEndian(init[20..], MaxWrite);
        BinaryPrimitives.WriteUInt32LittleEndian(init[24..], 1); // time_gran: nanoseconds
        BinaryPrimitives.WriteUInt16LittleEndian(init[28..], (ushort)(_options.MaxRead / 4096)); // max_pages
        FuseStructs.WriteOutHeader(reply, reply.Length, 0, header.Unique);
        _device!.Write(reply);
    }

    private async Task LookupAsync(FuseStructs.InHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        string parent = PathOf(header.NodeId);
        string name = NameOf(body.Span);
        string path = parent == "/" ? "/" + name : parent + "/" + name;
        StatReply status;
        try
        {
            status = await _client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (DoraFileNotFoundException) when (_options.AttributeLifetime > TimeSpan.Zero)
        {
            // A negative entry (node id 0) the kernel keeps for the attribute lifetime: probes of missing names (import
            // paths, config search) stop reaching the workers.
            var negative = new byte[FuseStructs.OutHeaderSize + FuseStructs.EntryOutSize];
            FuseStructs.WriteEntryOut(negative.AsSpan(FuseStructs.OutHeaderSize), new FuseStructs.Attributes(0, false, 0, DateTimeOffset.UnixEpoch, 0, 0, 0), _options.AttributeLifetime);
            Reply(header.Unique, negative);
            return;
        }

        ulong inode = _nodes.Lookup(path);
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + FuseStructs.EntryOutSize];
        FuseStructs.WriteEntryOut(reply[FuseStructs.OutHeaderSize..], AttributesOf(inode, status), _options.AttributeLifetime);
        Reply(header.Unique, reply);
    }

    private async Task GetAttrAsync(FuseStructs.InHeader header, CancellationToken cancellationToken)
    {
        string path = PathOf(header.NodeId);
        StatReply status = await _client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        var reply = new byte[FuseStructs.OutHeaderSize + FuseStructs.AttrOutSize];
        FuseStructs.WriteAttrOut(reply.AsSpan(FuseStructs.OutHeaderSize), AttributesOf(header.NodeId, status), _options.AttributeLifetime);
        Reply(header.Unique, reply);
    }

    private async Task OpenAsync(FuseStructs.InHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        // struct fuse_open_in { u32 flags; u32 open_flags; }: O_ACCMODE must be O_RDONLY.
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(body.Span);
        if ((flags & 3) != 0)
        {
            ReplyError(header.Unique, Errno.EROFS);
            return;
        }

        string path = PathOf(header.NodeId);
        StatReply status = await _client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        if (status.IsDirectory)
        {
            ReplyError(header.Unique, Errno.EISDIR);
            return;
        }

        ulong handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _files[handle] = new OpenFile(path, status.ETag, status.Length);
        // ttl: what the kernel caches of the file stays when the version is the one its cache was filled from.
        bool unchanged = Announce(header.NodeId, status) == VersionChange.Unchanged;
        uint openFlags = _options.Consistency switch
        {
            ConsistencyMode.Immutable => FuseStructs.FopenKeepCache,
            ConsistencyMode.Always => FuseStructs.FopenDirectIo,
            _ => unchanged ? FuseStructs.FopenKeepCache : 0,
        };
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + FuseStructs.OpenOutSize];
        reply.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(reply[FuseStructs.OutHeaderSize..], handle);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[(FuseStructs.OutHeaderSize + 8)..], openFlags);
        Reply(header.Unique, reply);
    }

    private async Task ReadAsync(FuseStructs.InHeader header, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        // struct fuse_read_in { u64 fh; u64 offset; u32 size; u32 read_flags; u64 lock_owner; u32 flags; u32 padding; }
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(body.Span);
        long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(body.Span[8..]);
        int size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body.Span[16..]), (uint)_options.MaxRead);
        if (!_files.TryGetValue(handle, out OpenFile? file))
        {
            ReplyError(header.Unique, Errno.EINVAL);
            return;
        }

        Interlocked.Increment(ref _reads);
        int wanted = (int)Math.Clamp(file.Length - offset, 0, size);
        if (wanted > 0 && !file.Continues(offset, wanted) && _readAround is not null && _readAround.Covers(offset, wanted)
            && _readAround.TryJoin(header.NodeId, file.Version, file.Length, offset, (start, window, ct) => ReadBytesAsync(file, start, window, ct)) is { } around)
        {
            using (around)
            {
                ReadOnlyMemory<byte> bytes = await around.BytesAsync(cancellationToken).ConfigureAwait(false);
                int from = (int)(offset - around.Start);
                ReplyFrom(header.Unique, bytes.Span.Slice(from, Math.Clamp(bytes.Length - from, 0, wanted)));
            }

            return;
        }

        if (wanted == 0)
        {
            ReplyFrom(header.Unique, []); // at or past the end of the file
            return;
        }

        if (_pipes is not null && _local is not null && file.Version is not null
            && await _local.TryPiecesAsync(file.Path, file.Version, offset, wanted, cancellationToken).ConfigureAwait(false) is { } pieces)
        {
            using (pieces)
            {
                if (SpliceReply(header.Unique, pieces))
                {
                    return;
                }
            }
        }

        byte[] buffer = ReadBuffers.Rent(wanted);
        try
        {
            int read = await ReadBytesAsync(file, offset, buffer.AsMemory(0, wanted), cancellationToken).ConfigureAwait(false);
            ReplyFrom(header.Unique, buffer.AsSpan(0, read));
        }
        finally
        {
            ReadBuffers.Return(buffer);
        }
    }

    // From the owner's page files where they are on this host, the rest from the owner over the network (with failover).
    private async Task<int> ReadBytesAsync(OpenFile file, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int local = _local is null || file.Version is null ? 0 : await _local.ReadAsync(file.Path, file.Version, offset, destination, cancellationToken).ConfigureAwait(false);
        return local == destination.Length
            ? local
            : local + await _client.ReadAsync(file.Path, offset + local, destination[local..], file.Version, cancellationToken).ConfigureAwait(false);
    }

    private async Task OpenDirAsync(FuseStructs.InHeader header, CancellationToken cancellationToken)
    {
        string path = PathOf(header.NodeId);
        StatReply status = await _client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        if (!status.IsDirectory)
        {
            ReplyError(header.Unique, Errno.ENOTDIR);
            return;
        }

        ulong handle = (ulong)Interlocked.Increment(ref _nextHandle);
        _directories[handle] = new DirectoryReader(path, _options.ListingPage);
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + FuseStructs.OpenOutSize];
        reply.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(reply[FuseStructs.OutHeaderSize..], handle);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[(FuseStructs.OutHeaderSize + 8)..], _options.Consistency == ConsistencyMode.Immutable ? FuseStructs.FopenCacheDir : 0);
        Reply(header.Unique, reply);
    }

    private async Task ReadDirAsync(FuseStructs.InHeader header, ReadOnlyMemory<byte> body, bool plus, CancellationToken cancellationToken)
    {
        // struct fuse_read_in, as for READ: fh, offset (where to resume: 0, or an entry's off), size (bytes of dirents).
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(body.Span);
        long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(body.Span[8..]);
        int size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(body.Span[16..]), 1u << 20);
        if (!_directories.TryGetValue(handle, out DirectoryReader? directory))
        {
            ReplyError(header.Unique, Errno.EINVAL);
            return;
        }

        byte[] reply = ArrayPool<byte>.Shared.Rent(FuseStructs.OutHeaderSize + size);
        try
        {
            int written = await directory.FillAsync(_client, _nodes, header.NodeId, offset, reply.AsMemory(FuseStructs.OutHeaderSize, size), plus, AttributesOf, _options.AttributeLifetime, cancellationToken).ConfigureAwait(false);
            Reply(header.Unique, reply.AsSpan(0, FuseStructs.OutHeaderSize + written));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(reply);
        }
    }

    private void StatFs(FuseStructs.InHeader header)
    {
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + FuseStructs.StatFsOutSize];
        reply.Clear();
        Span<byte> stat = reply[FuseStructs.OutHeaderSize..];
        // A read-only view: no free blocks or inodes; 4 KiB blocks, names up to 255 bytes.
        BinaryPrimitives.WriteUInt64LittleEndian(stat, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(stat[40..], 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(stat[44..], 255);
        BinaryPrimitives.WriteUInt32LittleEndian(stat[48..], 4096);
        Reply(header.Unique, reply);
    }

    private void Access(FuseStructs.InHeader header, ReadOnlySpan<byte> body)
    {
        // struct fuse_access_in { u32 mask; u32 padding; }: W_OK (2) is never granted on a read-only file system.
        uint mask = BinaryPrimitives.ReadUInt32LittleEndian(body);
        ReplyError(header.Unique, (mask & 2) != 0 ? Errno.EROFS : 0);
    }

    private void XAttr(FuseStructs.InHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Opcode == FuseOpcode.GetXAttr)
        {
            ReplyError(header.Unique, Errno.ENODATA); // Dora files carry no extended attributes
            return;
        }

        // LISTXATTR: struct fuse_getxattr_in { u32 size; u32 padding; }; size 0 asks for the list's length (0 here).
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(body);
        if (size == 0)
        {
            Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize + 8];
            reply.Clear();
            Reply(header.Unique, reply);
            return;
        }

        ReplyEmpty(header.Unique);
    }

    private string PathOf(ulong inode) => _nodes.PathOf(inode) ?? throw new StaleInodeException(inode);

    private static string NameOf(ReadOnlySpan<byte> body)
    {
        int end = body.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? body : body[..end]);
    }

    private FuseStructs.Attributes AttributesOf(ulong inode, StatReply status)
    {
        Announce(inode, status);
        return Attributes(inode, status.IsDirectory, status.Length, status.LastModified);
    }

    private FuseStructs.Attributes AttributesOf(ulong inode, ListEntry entry)
    {
        Announce(inode, entry.IsDirectory, entry.ETag);
        return Attributes(inode, entry.IsDirectory, entry.Length, entry.LastModified);
    }

    private VersionChange Announce(ulong inode, StatReply status) => Announce(inode, status.IsDirectory, status.ETag);

    // Called before the kernel hears of a file's attributes. A file whose content changed may keep its size and mtime,
    // which is all the kernel compares before it keeps cached bytes: so a changed version drops them here.
    private VersionChange Announce(ulong inode, bool isDirectory, string? version)
    {
        if (isDirectory)
        {
            return VersionChange.Unknown;
        }

        VersionChange change = _nodes.RecordVersion(inode, version);
        if (change == VersionChange.Changed && _options.Consistency != ConsistencyMode.Always)
        {
            _device?.InvalidateData(inode);
        }

        return change;
    }

    // Files 0444, directories 0555: read-only for everyone the mount lets in.
    private FuseStructs.Attributes Attributes(ulong inode, bool isDirectory, long length, DateTimeOffset modified) =>
        new(inode, isDirectory, isDirectory ? 0 : length, modified, isDirectory ? 0x16Du : 0x124u, _options.Uid, _options.Gid);

    private int ErrnoOf(Exception error, FuseStructs.InHeader header)
    {
        switch (error)
        {
            case DoraFileNotFoundException:
                return Errno.ENOENT;
            case InvalidPathException invalid:
                return invalid.Message.Contains("directory", StringComparison.Ordinal) ? Errno.EISDIR : Errno.ENOENT;
            case VersionMismatchException:
                FuseLog.FileChanged(_logger, header.NodeId, error.Message);
                return Errno.ESTALE;
            case StaleInodeException:
                return Errno.ESTALE;
            default:
                FuseLog.RequestFailed(_logger, header.Opcode.ToString(), _nodes.PathOf(header.NodeId) ?? $"inode {header.NodeId}", error.Message);
                return Errno.EIO;
        }
    }

    private void Reply(ulong unique, Span<byte> reply)
    {
        FuseStructs.WriteOutHeader(reply, reply.Length, 0, unique);
        _device!.Write(reply);
    }

    // A reply of page-file bytes spliced through a pipe: copied once, by the kernel, into the reader's page.
    private bool SpliceReply(ulong unique, LocalPieces pieces)
    {
        Span<byte> header = stackalloc byte[FuseStructs.OutHeaderSize];
        FuseStructs.WriteOutHeader(header, header.Length + pieces.Count, 0, unique);
        if (!_pipes!.TrySend(_device!, header, pieces))
        {
            return false;
        }

        Interlocked.Add(ref _readBytes, pieces.Count);
        Interlocked.Add(ref _splicedBytes, pieces.Count);
        return true;
    }

    // A reply of bytes held elsewhere: the header and the bytes go to the kernel in one writev, with no copy between.
    private void ReplyFrom(ulong unique, ReadOnlySpan<byte> bytes)
    {
        Span<byte> header = stackalloc byte[FuseStructs.OutHeaderSize];
        FuseStructs.WriteOutHeader(header, header.Length + bytes.Length, 0, unique);
        Interlocked.Add(ref _readBytes, bytes.Length);
        _device!.Write(header, bytes);
    }

    private void ReplyEmpty(ulong unique) => ReplyError(unique, 0);

    private void ReplyError(ulong unique, int errno)
    {
        Span<byte> reply = stackalloc byte[FuseStructs.OutHeaderSize];
        FuseStructs.WriteOutHeader(reply, reply.Length, -errno, unique);
        _device?.Write(reply);
    }

    /// <summary>Unmounts (if still mounted) and stops serving.</summary>
    public ValueTask DisposeAsync()
    {
        // Pushes first: one may wait for a page the kernel holds for a READ, which is only answered while mounted.
        _readAround?.Dispose();
        _device?.Dispose();
        _pipes?.Dispose();
        _local?.Dispose();
        _destroyed.TrySetResult();
        foreach (Thread reader in _readers)
        {
            reader.Join(TimeSpan.FromSeconds(5));
        }

        _slots.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed record OpenFile(string Path, string? Version, long Length)
    {
        private long _nextOffset = -1;

        /// <summary>
        /// Notes a READ and says whether it continues the one before on this handle: the kernel's read-ahead reads a
        /// sequential reader's file in contiguous READs, which read-around would only duplicate.
        /// </summary>
        public bool Continues(long offset, int length) => Interlocked.Exchange(ref _nextOffset, offset + length) == offset;
    }

    private sealed class StaleInodeException(ulong inode) : Exception($"inode {inode} is not known (forgotten)");
}

