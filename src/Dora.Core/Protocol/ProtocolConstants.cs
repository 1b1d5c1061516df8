namespace Dora.Core.Protocol;

/// <summary>Fixed values of the page stream protocol.</summary>
public static class ProtocolConstants
{
    /// <summary>The protocol version this build speaks.</summary>
    public const ushort Version = 1;

    /// <summary>Default TCP port of the page stream.</summary>
    public const int DefaultPort = 8816;

    /// <summary>
    /// Largest request payload a server accepts: 64 KiB, far above the largest legal request (a 4 KiB path plus a
    /// listing cursor), so a peer cannot make the server buffer much.
    /// </summary>
    public const int MaxRequestPayload = 64 << 10;

    /// <summary>Largest <see cref="FrameType.Ping"/> payload.</summary>
    public const int MaxPingPayload = 64;

    /// <summary>Largest listing page a <see cref="FrameType.List"/> may ask for.</summary>
    public const int MaxListLimit = 10_000;

    /// <summary>Pages a LOCATE answers for at most; a longer range is answered for its first pages.</summary>
    public const int MaxLocatePages = 64;

    /// <summary>LOAD flag: drop the range's cached pages and fetch them again from the under storage.</summary>
    public const byte LoadRefresh = 0x01;

    /// <summary>INVALIDATE flag: everything below the path too.</summary>
    public const byte InvalidateRecursive = 0x01;
}
