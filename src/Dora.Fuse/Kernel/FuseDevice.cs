using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Dora.Fuse.Kernel;

/// <summary>
/// <c>/dev/fuse</c> and the mount(2) that ties it to a mount point. Requests are read whole, one per read(2); replies are
/// written whole, one per write(2) (the kernel takes each write as one message, so threads may write concurrently).
/// </summary>
internal sealed partial class FuseDevice : IDisposable
{
    private const int ReadWrite = 2;
    private const int CloseOnExec = 0x80000;
    private const ulong MountReadOnly = 1;
    private const ulong MountNoSuid = 2;
    private const ulong MountNoDev = 4;
    private const int DetachUnmount = 2;

    private int _fd;

    private FuseDevice(int fd, string mountPoint)
    {
        _fd = fd;
        MountPoint = mountPoint;
    }

    public string MountPoint { get; }

    /// <summary>Opens <c>/dev/fuse</c> and mounts it read-only at <paramref name="mountPoint"/>.</summary>
    /// <exception cref="IOException">No <c>/dev/fuse</c>, not permitted (mounting needs root or CAP_SYS_ADMIN), or the mount failed; the message says which.</exception>
    public static FuseDevice Mount(string mountPoint, uint uid, uint gid, bool allowOther, int maxRead)
    {
        int fd = Open("/dev/fuse", ReadWrite | CloseOnExec, 0);
        if (fd < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            throw new IOException(error == Errno.ENOENT
                ? "/dev/fuse does not exist: load the fuse module (modprobe fuse) or, in a container, pass the device (--device /dev/fuse)"
                : $"cannot open /dev/fuse: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        string options = $"fd={fd},rootmode=40000,user_id={uid},group_id={gid},max_read={maxRead},default_permissions{(allowOther ? ",allow_other" : string.Empty)}";
        if (MountSystemCall("dora", mountPoint, "fuse.dora", MountReadOnly | MountNoSuid | MountNoDev, options) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            Close(fd);
            throw new IOException(error == 1
                ? $"mounting at {mountPoint} is not permitted: dora mount needs root (or CAP_SYS_ADMIN) to call mount(2)"
                : $"mounting at {mountPoint} failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        return new FuseDevice(fd, mountPoint);
    }

    /// <summary>Reads one request into <paramref name="buffer"/>; 0 once the file system is unmounted.</summary>
    public int Read(Span<byte> buffer)
    {
        while (true)
        {
            int fd = Volatile.Read(ref _fd);
            if (fd < 0)
            {
                return 0;
            }

            nint read = ReadSystemCall(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (read >= 0)
            {
                return (int)read;
            }

            int error = Marshal.GetLastPInvokeError();
            if (error is Errno.EINTR or Errno.EAGAIN or Errno.ENOENT)
            {
                continue; // interrupted, or the request was withdrawn before it was read
            }

            if (error == Errno.ENODEV)
            {
                return 0; // unmounted
            }

            throw new IOException($"reading /dev/fuse failed: {Marshal.GetPInvokeErrorMessage(error)}");
        }
    }

    /// <summary>Writes one reply; false when the kernel no longer wants it (the request was interrupted, or the mount is gone).</summary>
    public bool Write(ReadOnlySpan<byte> reply)
    {
        int fd = Volatile.Read(ref _fd);
        return fd >= 0 && WriteSystemCall(fd, ref MemoryMarshal.GetReference(reply), (nuint)reply.Length) == reply.Length;
    }

    /// <summary>
    /// Writes one reply from two pieces, a header and a body held elsewhere (writev: the body is not copied into a
    /// buffer of its own first); false as for <see cref="Write(ReadOnlySpan{byte})"/>.
    /// </summary>
    public unsafe bool Write(ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        int fd = Volatile.Read(ref _fd);
        if (fd < 0)
        {
            return false;
        }

        fixed (byte* head = header)
        fixed (byte* rest = body)
        {
            IoVector* vectors = stackalloc IoVector[2];
            vectors[0] = new IoVector(head, header.Length);
            vectors[1] = new IoVector(rest, body.Length);
            return WriteVectorSystemCall(fd, vectors, body.IsEmpty ? 1 : 2) == header.Length + body.Length;
        }
    }

    /// <summary>Moves one whole reply of <paramref name="length"/> bytes from a pipe into the device (splice).</summary>
    public bool SpliceFrom(int pipe, int length)
    {
        int fd = Volatile.Read(ref _fd);
        // No SPLICE_F_MOVE: the kernel would then take the page-cache pages of the page files away from them (steal),
        // and the worker's cached pages would leave memory with every reply.
        return fd >= 0 && SpliceSystemCall(pipe, 0, fd, 0, (nuint)length, 0) == length;
    }

    /// <summary>Tells the kernel to drop what its page cache holds of an inode's data (FUSE_NOTIFY_INVAL_INODE).</summary>
    public bool InvalidateData(ulong inode)
    {
        Span<byte> notify = stackalloc byte[FuseStructs.OutHeaderSize + 24];
        notify.Clear();
        FuseStructs.WriteOutHeader(notify, notify.Length, FuseStructs.NotifyInvalInode, 0);
        BinaryPrimitives.WriteUInt64LittleEndian(notify[FuseStructs.OutHeaderSize..], inode);
        return Write(notify); // off 0, len 0: the whole file
    }

    /// <summary>Detaches the mount (lazily, so open files do not hold it up).</summary>
    public static bool Unmount(string mountPoint, out string? problem)
    {
        if (Umount2(mountPoint, DetachUnmount) == 0)
        {
            problem = null;
            return true;
        }

        problem = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
        return false;
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Unmount(MountPoint, out _);
            Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadSystemCall(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteSystemCall(int fd, ref byte buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static partial nint SpliceSystemCall(int fdIn, nint offsetIn, int fdOut, nint offsetOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    private static unsafe partial nint WriteVectorSystemCall(int fd, IoVector* vectors, int count);

    /// <summary><c>struct iovec { void *iov_base; size_t iov_len; }</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly unsafe struct IoVector(byte* start, nint length)
    {
        public readonly byte* Start = start;
        public readonly nint Length = length;
    }

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountSystemCall(string source, string target, string type, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);
}
