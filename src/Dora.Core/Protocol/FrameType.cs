namespace Dora.Core.Protocol;

/// <summary>Page stream frame types (docs/protocol.md). Requests are below 0x80, responses at or above.</summary>
public enum FrameType : byte
{
    /// <summary>First frame of a connection: protocol version, optional token, client name.</summary>
    Hello = 0x01,

    /// <summary>Read a byte range of a file.</summary>
    Read = 0x02,

    /// <summary>Status of a file or directory.</summary>
    Stat = 0x03,

    /// <summary>One page of a directory listing.</summary>
    List = 0x04,

    /// <summary>Heartbeat; answered with <see cref="Pong"/> carrying the same payload.</summary>
    Ping = 0x05,

    /// <summary>Cancels the in-flight request whose id the header carries.</summary>
    Cancel = 0x06,

    /// <summary>The worker's health and cache state; no payload.</summary>
    Health = 0x07,

    /// <summary>Caches a byte range of a file on this worker (every page it touches); no data comes back.</summary>
    Load = 0x08,

    /// <summary>Checks that every page of a byte range is cached with a valid checksum.</summary>
    Verify = 0x09,

    /// <summary>Forgets what the worker cached about a path (or everything below it) and looks at the file again.</summary>
    Invalidate = 0x0A,

    /// <summary>Drops the cached pages of a file's current version.</summary>
    Evict = 0x0B,

    /// <summary>
    /// Where the cached pages of a byte range of one file version are on the worker's disk, for a client on the same
    /// host that reads page files itself (docs/protocol.md, "LOCATE").
    /// </summary>
    Locate = 0x0C,

    /// <summary>Answer to <see cref="Hello"/>: the server's version and limits.</summary>
    HelloOk = 0x81,

    /// <summary>Bytes of a <see cref="Read"/>: file offset, then data; the last frame of a read has <see cref="FrameBits.End"/>.</summary>
    Data = 0x82,

    /// <summary>Answer to <see cref="Stat"/>: JSON.</summary>
    StatOk = 0x83,

    /// <summary>Answer to <see cref="List"/>: JSON.</summary>
    ListOk = 0x84,

    /// <summary>Answer to <see cref="Ping"/>.</summary>
    Pong = 0x85,

    /// <summary>Answer to <see cref="Health"/>: JSON.</summary>
    HealthOk = 0x86,

    /// <summary>Answer to <see cref="Load"/>: JSON.</summary>
    LoadOk = 0x87,

    /// <summary>Answer to <see cref="Verify"/>: JSON.</summary>
    VerifyOk = 0x88,

    /// <summary>Answer to <see cref="Invalidate"/>: JSON.</summary>
    InvalidateOk = 0x89,

    /// <summary>Answer to <see cref="Evict"/>: JSON.</summary>
    EvictOk = 0x8A,

    /// <summary>Answer to <see cref="Locate"/>: JSON.</summary>
    LocateOk = 0x8B,

    /// <summary>A request failed (or, with request id 0, the connection is being closed): code and message.</summary>
    Error = 0xEE,
}

/// <summary>Frame flags.</summary>
[Flags]
public enum FrameBits : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>On <see cref="FrameType.Data"/>: the last frame of this read.</summary>
    End = 0x01,
}

/// <summary>Names of request types, as metrics and logs show them.</summary>
public static class FrameTypeNames
{
    /// <summary>The request type's lower-case name (<c>read</c>, <c>stat</c>, ...), without allocating.</summary>
    public static string Name(this FrameType type) => type switch
    {
        FrameType.Read => "read",
        FrameType.Stat => "stat",
        FrameType.List => "list",
        FrameType.Health => "health",
        FrameType.Load => "load",
        FrameType.Verify => "verify",
        FrameType.Invalidate => "invalidate",
        FrameType.Evict => "evict",
        FrameType.Ping => "ping",
        _ => "other",
    };
}
