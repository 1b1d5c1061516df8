using Dora.Core.Protocol;

namespace Dora.Worker.PageStream;

/// <summary>A parsed READ, STAT, LIST, HEALTH, LOAD or VERIFY request.</summary>
internal sealed record Request(FrameType Type, ulong Id, string Path, long Offset, long Length, string? After, int Limit)
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
            FrameType.Read or FrameType.Load or FrameType.Verify => new Request(frame.Type, frame.RequestId, path, reader.ReadI64(), reader.ReadI64(), null, 0),
            FrameType.List => ParseList(frame, path, ref reader),
            _ => new Request(frame.Type, frame.RequestId, path, 0, 0, null, 0),
        };
        reader.EnsureEnd();
        return request;
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
