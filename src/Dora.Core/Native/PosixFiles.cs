using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dora.Core.Native;

/// <summary>
/// The file facts .NET does not expose (inode, device, change time, nanosecond times), read with Linux's
/// <c>statx(2)</c>, and advisory locks with <c>flock(2)</c>. On other systems the facts come from <see cref="FileInfo"/>
/// (inode and change time then read 0) and locks from <see cref="FileShare.None"/>.
/// </summary>
public static partial class PosixFiles
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;
    private const int ErrorNotFound = 2;
    private const int ErrorWouldBlock = 11;
    private const int ErrorNotDirectory = 20;

    /// <summary>The size of <c>struct statx</c>.</summary>
    private const int StatxSize = 256;

    /// <summary>Status of the file or directory at <paramref name="path"/>, following symbolic links.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="IOException">The status cannot be read; the message has the system's reason.</exception>
    public static NativeFileStatus Stat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            return Portable(path);
        }

        Span<byte> buffer = stackalloc byte[StatxSize];
        if (Statx(AtFdCwd, path, 0, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            int error = Marshal.GetLastPInvokeError();
            throw error is ErrorNotFound or ErrorNotDirectory
                ? new FileNotFoundException($"'{path}' does not exist.", path)
                : new IOException($"Cannot read the status of '{path}': {Marshal.GetPInvokeErrorMessage(error)}.", error);
        }

        return Parse(buffer);
    }

    /// <summary>Status of an open file.</summary>
    /// <exception cref="IOException">The status cannot be read.</exception>
    public static NativeFileStatus Stat(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return new NativeFileStatus(0, 0, RandomAccess.GetLength(handle), 0, 0, IsDirectory: false);
        }

        Span<byte> buffer = stackalloc byte[StatxSize];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Statx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                int error = Marshal.GetLastPInvokeError();
                throw new IOException($"Cannot read the status of an open file: {Marshal.GetPInvokeErrorMessage(error)}.", error);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return Parse(buffer);
    }

    /// <summary>
    /// Opens (creating it when missing) and exclusively locks <paramref name="path"/> with an advisory lock, without
    /// waiting. Returns the open file, which holds the lock until it is disposed or the process ends; null when another
    /// open file (in this process or another) holds the lock.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or locked for another reason.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be opened for writing.</exception>
    public static SafeFileHandle? TryLockFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                return null;
            }
        }

        // Opened here rather than by FileStream: .NET takes a shared flock of its own on every file it opens, which
        // would turn a held lock into an open error.
        const int readWrite = 2, create = 0x40, closeOnExec = 0x80000, permissions = 420; // 0644
        int descriptor = Open(path, readWrite | create | closeOnExec, permissions);
        if (descriptor < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            string reason = $"Cannot open '{path}': {Marshal.GetPInvokeErrorMessage(error)}.";
            const int accessDenied = 13, readOnlyFileSystem = 30;
            throw error is accessDenied or readOnlyFileSystem ? new UnauthorizedAccessException(reason) : new IOException(reason, error);
        }

        var handle = new SafeFileHandle(descriptor, ownsHandle: true);
        if (Flock(descriptor, LockExclusive | LockNonBlocking) == 0)
        {
            return handle;
        }

        int lockError = Marshal.GetLastPInvokeError();
        handle.Dispose();
        return lockError == ErrorWouldBlock
            ? null
            : throw new IOException($"Cannot lock '{path}': {Marshal.GetPInvokeErrorMessage(lockError)}.", lockError);
    }

    // struct statx (include/uapi/linux/stat.h): the fields used, at their fixed offsets.
    private static NativeFileStatus Parse(ReadOnlySpan<byte> statx)
    {
        ushort mode = BinaryPrimitives.ReadUInt16LittleEndian(statx[28..]);
        ulong inode = BinaryPrimitives.ReadUInt64LittleEndian(statx[32..]);
        long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(statx[40..]);
        long changed = Nanoseconds(statx[96..]);
        long modified = Nanoseconds(statx[112..]);
        ulong device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(statx[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(statx[140..]);
        const int typeMask = 0xF000;
        const int directoryType = 0x4000;
        return new NativeFileStatus(device, inode, size, modified, changed, (mode & typeMask) == directoryType);
    }

    // struct statx_timestamp: i64 seconds, u32 nanoseconds.
    private static long Nanoseconds(ReadOnlySpan<byte> timestamp) =>
        (BinaryPrimitives.ReadInt64LittleEndian(timestamp) * 1_000_000_000L) + BinaryPrimitives.ReadUInt32LittleEndian(timestamp[8..]);

    private static NativeFileStatus Portable(string path)
    {
        var file = new FileInfo(path);
        if (file.Exists)
        {
            return new NativeFileStatus(0, 0, file.Length, ToNanoseconds(file.LastWriteTimeUtc), 0, IsDirectory: false);
        }

        var directory = new DirectoryInfo(path);
        return directory.Exists
            ? new NativeFileStatus(0, 0, 0, ToNanoseconds(directory.LastWriteTimeUtc), 0, IsDirectory: true)
            : throw new FileNotFoundException($"'{path}' does not exist.", path);
    }

    private static long ToNanoseconds(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int descriptor, int operation);
}

/// <summary>What the file system says of one file.</summary>
/// <param name="Device">The device the file is on.</param>
/// <param name="Inode">The file's inode number: a file replaced by another (rename, rsync) gets a new one.</param>
/// <param name="Length">Bytes in the file.</param>
/// <param name="ModifiedNs">Last data modification, nanoseconds since the Unix epoch (can be set by anyone: touch -d).</param>
/// <param name="ChangedNs">
/// Last change of data or metadata, nanoseconds since the Unix epoch. No system call sets it to a chosen value, so a
/// write with the modification time restored afterwards (cp -p, rsync -t) still shows here.
/// </param>
/// <param name="IsDirectory">True for a directory.</param>
public readonly record struct NativeFileStatus(ulong Device, ulong Inode, long Length, long ModifiedNs, long ChangedNs, bool IsDirectory)
{
    /// <summary>The modification time as a <see cref="DateTimeOffset"/> (100 ns precision).</summary>
    public DateTimeOffset LastModified => new(DateTime.UnixEpoch.Ticks + (ModifiedNs / 100), TimeSpan.Zero);
}
