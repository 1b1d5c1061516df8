using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Dora.Client;

namespace Dora.Fuse.Kernel;

/// <summary>
/// A pipe a READ reply is assembled in without copying its bytes: the reply header is written into it, the page-file
/// bytes are spliced in (the pipe takes references to the page cache's pages), and the whole is spliced into
/// <c>/dev/fuse</c>, where the kernel copies each byte once, into the reader's page. A reply copied through a buffer
/// costs two copies (pread, then write), as a passthrough file system's does.
/// </summary>
internal sealed partial class SplicePipe : IDisposable
{
    /// <summary>
    /// The pipe sizes tried, largest first: 2 MiB holds a header and a whole 1 MiB reply; 1 MiB (the size any user may
    /// ask for by default, /proc/sys/fs/pipe-max-size) holds a header and 1,020 KiB. A pipe holds one 4 KiB page per
    /// slot, and the header takes a slot of its own.
    /// </summary>
    private static readonly int[] Capacities = [2 << 20, 1 << 20];

    private const int CloseOnExec = 0x80000;
    private const int SetPipeSize = 1031; // F_SETPIPE_SZ
    private const uint SpliceNonBlock = 2;

    private readonly int _read;
    private readonly int _write;

    private SplicePipe(int read, int write, int capacity)
    {
        _read = read;
        _write = write;
        MaxReplyBytes = capacity - 4096;
    }

    /// <summary>The most file bytes one reply through this pipe may carry.</summary>
    public int MaxReplyBytes { get; }

    /// <summary>
    /// A pipe of at least <paramref name="smallest"/> bytes (the largest the system gives of <see cref="Capacities"/>),
    /// or null with why.
    /// </summary>
    public static unsafe SplicePipe? TryCreate(int smallest, out string? problem)
    {
        int* fds = stackalloc int[2];
        if (Pipe2(fds, CloseOnExec) != 0)
        {
            problem = $"pipe2 failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return null;
        }

        foreach (int capacity in Capacities)
        {
            if (capacity >= smallest && Fcntl(fds[1], SetPipeSize, capacity) >= capacity)
            {
                problem = null;
                return new SplicePipe(fds[0], fds[1], capacity);
            }
        }

        problem = $"no pipe of {smallest >> 20} MiB or more was given ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}; /proc/sys/fs/pipe-max-size)";
        Close(fds[0]);
        Close(fds[1]);
        return null;
    }

    /// <summary>
    /// Sends one reply: <paramref name="header"/> then the bytes of <paramref name="pieces"/>. False when any step
    /// failed; the pipe may then hold part of a reply and must be disposed, not used again.
    /// </summary>
    public unsafe bool TrySend(FuseDevice device, ReadOnlySpan<byte> header, LocalPieces pieces)
    {
        if (!Fits(pieces))
        {
            return false;
        }

        fixed (byte* head = header)
        {
            if (Write(_write, head, (nuint)header.Length) != header.Length)
            {
                return false;
            }
        }

        foreach (LocalPiece piece in pieces.Pieces)
        {
            long offset = piece.FileOffset;
            int left = piece.Count;
            int file = (int)piece.Handle.DangerousGetHandle();
            while (left > 0)
            {
                nint moved = Splice(file, &offset, _write, null, (nuint)left, SpliceNonBlock);
                if (moved <= 0)
                {
                    return false;
                }

                left -= (int)moved;
            }
        }

        return device.SpliceFrom(_read, header.Length + pieces.Count);
    }

    /// <summary>
    /// Whether the reply fits: a pipe holds one 4 KiB page per slot, the header takes one, and a piece that does not
    /// start on a page boundary (direct I/O at any offset) spans one page more than its length says.
    /// </summary>
    public bool Fits(LocalPieces pieces)
    {
        long slots = 1;
        foreach (LocalPiece piece in pieces.Pieces)
        {
            slots += ((piece.FileOffset + piece.Count - 1) / 4096) - (piece.FileOffset / 4096) + 1;
        }

        return slots * 4096 <= MaxReplyBytes + 4096;
    }

    public void Dispose()
    {
        Close(_read);
        Close(_write);
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static unsafe partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    private static unsafe partial nint Splice(int fdIn, long* offsetIn, int fdOut, long* offsetOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}

/// <summary>Splice pipes for replies served at once: taken for one reply, given back after it (or closed if it failed).</summary>
internal sealed class SplicePipes : IDisposable
{
    private readonly ConcurrentBag<SplicePipe> _idle = [];
    private readonly int _capacity;

    private SplicePipes(SplicePipe first)
    {
        MaxReplyBytes = first.MaxReplyBytes;
        _capacity = first.MaxReplyBytes + 4096;
        _idle.Add(first);
    }

    /// <summary>The most file bytes a spliced reply may carry (2 MiB pipes: 2 MiB - 4 KiB; 1 MiB pipes: 1,020 KiB).</summary>
    public int MaxReplyBytes { get; }

    /// <summary>The pool, or null with why when this system gives no pipe large enough (replies are then copied).</summary>
    public static SplicePipes? TryCreate(out string? problem) =>
        SplicePipe.TryCreate(1 << 20, out problem) is { } first ? new SplicePipes(first) : null;

    /// <summary>Sends one reply through a pipe; false when it could not (the caller then copies the bytes instead).</summary>
    public bool TrySend(FuseDevice device, ReadOnlySpan<byte> header, LocalPieces pieces)
    {
        if (pieces.Count > MaxReplyBytes || (!_idle.TryTake(out SplicePipe? pipe) && (pipe = SplicePipe.TryCreate(_capacity, out _)) is null))
        {
            return false;
        }

        if (!pipe.Fits(pieces))
        {
            _idle.Add(pipe); // unused: a reply that would not fit is copied instead
            return false;
        }

        if (pipe.TrySend(device, header, pieces))
        {
            _idle.Add(pipe);
            return true;
        }

        pipe.Dispose();
        return false;
    }

    public void Dispose()
    {
        while (_idle.TryTake(out SplicePipe? pipe))
        {
            pipe.Dispose();
        }
    }
}
