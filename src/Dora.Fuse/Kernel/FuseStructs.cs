using System.Buffers.Binary;

namespace Dora.Fuse.Kernel;

/// <summary>
/// The structures of the FUSE kernel protocol this file system reads and writes, laid out as include/uapi/linux/fuse.h
/// declares them (native byte order; Dora runs on little-endian Linux). Each is read or written at explicit offsets,
/// so the layout is visible here field by field.
/// </summary>
internal static class FuseStructs
{
    /// <summary>
    /// <c>struct fuse_in_header</c> (40 bytes): <c>u32 len</c> (whole request), <c>u32 opcode</c>, <c>u64 unique</c>
    /// (the request id echoed in the reply), <c>u64 nodeid</c>, <c>u32 uid</c>, <c>u32 gid</c>, <c>u32 pid</c>,
    /// <c>u16 total_extlen</c>, <c>u16 padding</c>.
    /// </summary>
    public const int InHeaderSize = 40;

    /// <summary><c>struct fuse_out_header</c> (16 bytes): <c>u32 len</c> (whole reply), <c>i32 error</c> (0 or -errno), <c>u64 unique</c>.</summary>
    public const int OutHeaderSize = 16;

    /// <summary>
    /// <c>struct fuse_attr</c> (88 bytes): <c>u64 ino, size, blocks, atime, mtime, ctime</c>; <c>u32 atimensec,
    /// mtimensec, ctimensec, mode, nlink, uid, gid, rdev, blksize, flags</c>.
    /// </summary>
    public const int AttrSize = 88;

    /// <summary>
    /// <c>struct fuse_entry_out</c> (128 bytes): <c>u64 nodeid, generation, entry_valid, attr_valid</c>;
    /// <c>u32 entry_valid_nsec, attr_valid_nsec</c>; <c>struct fuse_attr attr</c>.
    /// </summary>
    public const int EntryOutSize = 40 + AttrSize;

    /// <summary><c>struct fuse_attr_out</c> (104 bytes): <c>u64 attr_valid</c>, <c>u32 attr_valid_nsec</c>, <c>u32 dummy</c>, <c>struct fuse_attr attr</c>.</summary>
    public const int AttrOutSize = 16 + AttrSize;

    /// <summary><c>struct fuse_open_out</c> (16 bytes): <c>u64 fh</c>, <c>u32 open_flags</c> (FOPEN_*), <c>i32 backing_id</c>.</summary>
    public const int OpenOutSize = 16;

    /// <summary>
    /// <c>struct fuse_init_out</c> (64 bytes): <c>u32 major, minor, max_readahead, flags</c>; <c>u16 max_background,
    /// congestion_threshold</c>; <c>u32 max_write, time_gran</c>; <c>u16 max_pages, map_alignment</c>; <c>u32 flags2,
    /// max_stack_depth</c>; <c>u16 request_timeout</c>, <c>u16 unused[11]</c>.
    /// </summary>
    public const int InitOutSize = 64;

    /// <summary>
    /// <c>struct fuse_kstatfs</c> inside <c>fuse_statfs_out</c> (80 bytes): <c>u64 blocks, bfree, bavail, files,
    /// ffree</c>; <c>u32 bsize, namelen, frsize, padding, spare[6]</c>.
    /// </summary>
    public const int StatFsOutSize = 80;

    /// <summary><c>struct fuse_dirent</c>: <c>u64 ino, off</c>, <c>u32 namelen, type</c>, the name, padded to 8 bytes.</summary>
    public const int DirentHeaderSize = 24;

    /// <summary>The lowest protocol version served: 7.23 brought the 64-byte <c>fuse_init_out</c> written here.</summary>
    public const uint MinimumMinor = 23;

    /// <summary>The protocol version this file system speaks (7.31: <c>max_pages</c>, FOPEN_CACHE_DIR).</summary>
    public const uint Major = 7;

    public const uint Minor = 31;

    // fuse_init_in.flags / fuse_init_out.flags
    public const uint AsyncRead = 1 << 0;
    public const uint AutoInvalData = 1 << 12;
    public const uint DoReadDirPlus = 1 << 13;
    public const uint ReadDirPlusAuto = 1 << 14;
    public const uint ParallelDirOps = 1 << 18;
    public const uint MaxPages = 1 << 22;

    // fuse_open_out.open_flags
    public const uint FopenDirectIo = 1 << 0;
    public const uint FopenKeepCache = 1 << 1;
    public const uint FopenCacheDir = 1 << 3;

    // Notifications: fuse_out_header with unique 0 and the code in its error field.

    /// <summary>FUSE_NOTIFY_INVAL_INODE: <c>struct fuse_notify_inval_inode_out { u64 ino; i64 off; i64 len; }</c> (len 0: to the end).</summary>
    public const int NotifyInvalInode = 2;

    /// <summary>FUSE_NOTIFY_STORE: <c>struct fuse_notify_store_out { u64 nodeid; u64 offset; u32 size; u32 padding; }</c>, then the bytes.</summary>
    public const int NotifyStore = 4;

    // st_mode
    public const uint DirectoryMode = 0x4000;
    public const uint RegularMode = 0x8000;

    /// <summary>The parts of <c>fuse_in_header</c> a handler needs.</summary>
    public readonly record struct InHeader(uint Length, FuseOpcode Opcode, ulong Unique, ulong NodeId, uint Uid, uint Gid, uint Pid)
    {
        public static InHeader Read(ReadOnlySpan<byte> request) => new(
            BinaryPrimitives.ReadUInt32LittleEndian(request),
            (FuseOpcode)BinaryPrimitives.ReadUInt32LittleEndian(request[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(request[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(request[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(request[32..]));
    }

    public static void WriteOutHeader(Span<byte> reply, int length, int error, ulong unique)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(reply, (uint)length);
        BinaryPrimitives.WriteInt32LittleEndian(reply[4..], error);
        BinaryPrimitives.WriteUInt64LittleEndian(reply[8..], unique);
    }

    /// <summary>What Dora says of an inode: its number, kind, size, time and permissions.</summary>
    public readonly record struct Attributes(ulong Inode, bool IsDirectory, long Size, DateTimeOffset Modified, uint Permissions, uint Uid, uint Gid);

    public static void WriteAttr(Span<byte> destination, in Attributes attributes)
    {
        destination[..AttrSize].Clear();
        long seconds = attributes.Modified.ToUnixTimeSeconds();
        uint nanoseconds = (uint)(attributes.Modified.UtcTicks % TimeSpan.TicksPerSecond * 100);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, attributes.Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)attributes.Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], (ulong)((attributes.Size + 511) / 512));
        for (int time = 0; time < 3; time++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[(24 + (8 * time))..], (ulong)seconds);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(48 + (4 * time))..], nanoseconds);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination[60..], (attributes.IsDirectory ? DirectoryMode : RegularMode) | attributes.Permissions);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[64..], attributes.IsDirectory ? 2u : 1u);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[68..], attributes.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[72..], attributes.Gid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[80..], 4096);
    }

    public static void WriteEntryOut(Span<byte> destination, in Attributes attributes, TimeSpan valid)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, attributes.Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], 0);
        WriteValidity(destination[16..], destination[32..], valid);
        WriteValidity(destination[24..], destination[36..], valid);
        WriteAttr(destination[40..], attributes);
    }

    public static void WriteAttrOut(Span<byte> destination, in Attributes attributes, TimeSpan valid)
    {
        WriteValidity(destination, destination[8..], valid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0);
        WriteAttr(destination[16..], attributes);
    }

    private static void WriteValidity(Span<byte> seconds, Span<byte> nanoseconds, TimeSpan valid)
    {
        long ticks = Math.Max(0, valid.Ticks);
        BinaryPrimitives.WriteUInt64LittleEndian(seconds, (ulong)(ticks / TimeSpan.TicksPerSecond));
        BinaryPrimitives.WriteUInt32LittleEndian(nanoseconds, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    /// <summary>Bytes a <c>fuse_dirent</c> with this name takes, padding included.</summary>
    public static int DirentSize(int nameBytes) => (DirentHeaderSize + nameBytes + 7) & ~7;

    /// <summary>Writes one <c>fuse_dirent</c>; <paramref name="offset"/> is where the next READDIR resumes.</summary>
    public static int WriteDirent(Span<byte> destination, ulong inode, ulong offset, bool isDirectory, ReadOnlySpan<byte> name)
    {
        int size = DirentSize(name.Length);
        destination[..size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(destination, inode);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)name.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], isDirectory ? 4u : 8u); // DT_DIR, DT_REG
        name.CopyTo(destination[DirentHeaderSize..]);
        return size;
    }
}
