using Dora.Core.Protocol;

namespace Dora.Worker.PageStream;

/// <summary>
/// A parsed request: READ (with the version it must read, if any, in <see cref="After"/>), STAT, LIST, HEALTH, LOAD,
/// VERIFY, INVALIDATE, EVICT or LOCATE (its version in <see cref="After"/> too).
/// </summary>
internal sealed record Request(FrameType Type, ulong Id, string Path, long Offset, long Length, string? After, int Limit, byte Flags = 0)
{
    /// <summary>Parses the payload of a request frame; malformed payloads throw <see cref="FormatException"/>.</summary>
    public static Request Parse(FrameHeader frame, ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        if (frame.Type == FrameType.Health)
        {
            reader.EnsureEnd();
            return new Request(frame.Type, frame.RequestId, string.Empty, 0, 0, null, 0);
        }

        string path = reader.ReadString();
        Request request = frame.Type switch
        {
            FrameType.Read => ParseRead(frame, path, ref reader),
            FrameType.Locate => ParseLocate(frame, path, ref reader),
            FrameType.Verify => new Request(frame.Type, frame.RequestId, path, reader.ReadI64(), reader.ReadI64(), null, 0),
            FrameType.Invalidate => new Request(frame.Type, frame.RequestId, path, 0, 0, null, 0, ParseInvalidateFlags(ref reader)),
            FrameType.Load => new Request(frame.Type, frame.RequestId, path, reader.ReadI64(), reader.ReadI64(), null, 0, ParseLoadFlags(ref reader)),
            FrameType.List => ParseList(frame, path, ref reader),
            _ => new Request(frame.Type, frame.RequestId, path, 0, 0, null, 0),
        };
        reader.EnsureEnd();
        return request;
    }

    /// <summary>READ: offset, length, then optionally the version (a STAT's <c>etag</c>) every byte must come from.</summary>
    private static Request ParseRead(FrameHeader frame, string path, ref PayloadReader reader)
    {
        long offset = reader.ReadI64();
        long length = reader.ReadI64();
        string? version = reader.AtEnd ? null : reader.ReadString();
        return new Request(frame.Type, frame.RequestId, path, offset, length, version is { Length: > 0 } ? version : null, 0);
    }

    /// <summary>LOCATE: offset, length, then the version the pages must be of (required: a reader keeps page files by version).</summary>
    private static Request ParseLocate(FrameHeader frame, string path, ref PayloadReader reader)
    {
        long offset = reader.ReadI64();
        long length = reader.ReadI64();
        string version = reader.ReadString();
        return version.Length > 0
            ? new Request(frame.Type, frame.RequestId, path, offset, length, version, 0)
            : throw new FormatException("LOCATE needs the version (eTag) its pages must be of");
    }

    /// <summary>INVALIDATE flags: bit 0 recursive; other bits must be 0.</summary>
    private static byte ParseInvalidateFlags(ref PayloadReader reader)
    {
        byte flags = reader.ReadU8();
        return (flags & ~ProtocolConstants.InvalidateRecursive) == 0 ? flags : throw new FormatException($"unknown INVALIDATE flags 0x{flags:x2}");
    }

    /// <summary>LOAD flags: bit 0 refresh (drop the range's cached pages and fetch them again); other bits must be 0.</summary>
    private static byte ParseLoadFlags(ref PayloadReader reader)
    {
        byte flags = reader.ReadU8();
        return (flags & ~ProtocolConstants.LoadRefresh) == 0 ? flags : throw new FormatException($"unknown LOAD flags 0x{flags:x2}");
    }

    private static Request ParseList(FrameHeader frame, string path, ref PayloadReader reader)
    {
        string after = reader.ReadString();
        uint limit = reader.ReadU32();
        if (limit is 0 or > ProtocolConstants.MaxListLimit)
        {
            throw new FormatException($"list limit {limit} is outside 1..{ProtocolConstants.MaxListLimit}");
        }

        return new Request(frame.Type, frame.RequestId, path, 0, 0, after.Length == 0 ? null : after, (int)limit);
    }
}
