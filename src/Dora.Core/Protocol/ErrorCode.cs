namespace Dora.Core.Protocol;

/// <summary>Page stream error codes (docs/protocol.md).</summary>
public enum ErrorCode : ushort
{
    /// <summary>The frame was malformed; the connection is closed.</summary>
    BadFrame = 1,

    /// <summary>The client's protocol version is not served; the connection is closed.</summary>
    UnsupportedVersion = 2,

    /// <summary>The token is missing or wrong; the connection is closed.</summary>
    Unauthenticated = 3,

    /// <summary>The path is not a valid Dora path, or names a directory where a file is needed.</summary>
    InvalidPath = 4,

    /// <summary>No such file or directory.</summary>
    NotFound = 5,

    /// <summary>The offset lies past the end of the file, or a length is negative.</summary>
    InvalidRange = 6,

    /// <summary>The under storage failed; trying again (here or elsewhere) may succeed.</summary>
    Unavailable = 7,

    /// <summary>The request was cancelled by the client.</summary>
    Cancelled = 8,

    /// <summary>The request id is already in flight on this connection.</summary>
    DuplicateRequestId = 9,

    /// <summary>A frame exceeded the size the server accepts; the connection is closed.</summary>
    FrameTooLarge = 10,

    /// <summary>An unexpected server error.</summary>
    Internal = 11,

    /// <summary>The server is shutting down; the connection is closed.</summary>
    ShuttingDown = 12,

    /// <summary>The file is not the version the request asked for (it changed since the reader opened it).</summary>
    VersionMismatch = 13,

    /// <summary>The worker has no room for the request now (a worker-wide budget is spent); trying again later may succeed.</summary>
    Busy = 14,
}

/// <summary>What a client should do with an error code.</summary>
public static class ErrorCodes
{
    /// <summary>True when the same request may succeed later or on another worker.</summary>
    public static bool IsTransient(ErrorCode code) => code is ErrorCode.Unavailable or ErrorCode.Internal or ErrorCode.ShuttingDown or ErrorCode.Busy;
}
