using Dora.Formats;

namespace Dora.Flight.Ipc;

/// <summary>
/// One Arrow IPC message as Flight carries it: the flatbuffer <c>Message</c> (FlightData.data_header) and its body
/// (FlightData.data_body). Both may point into a buffer that is reused once the message is sent.
/// </summary>
internal readonly record struct IpcMessage(ReadOnlyMemory<byte> Header, ReadOnlyMemory<byte> Body)
{
    /// <summary>The <c>MessageHeader</c> union's type: 1 schema, 2 dictionary batch, 3 record batch.</summary>
    public byte HeaderType => FlatTable.Root(Header.Span).GetByte(1);

    public const byte Schema = 1;

    public const byte RecordBatch = 3;

    /// <summary>The body length a <c>Message</c> flatbuffer declares.</summary>
    public static long BodyLengthOf(ReadOnlySpan<byte> header) => FlatTable.Root(header).GetInt64(3);

    /// <summary>
    /// The messages of an encapsulated IPC stream (each: an optional 0xFFFFFFFF continuation marker, the metadata length,
    /// the flatbuffer, then the body), up to the end-of-stream marker or the end of the data.
    /// </summary>
    public static List<IpcMessage> Split(ReadOnlyMemory<byte> stream)
    {
        var messages = new List<IpcMessage>();
        int at = 0;
        while (at + 4 <= stream.Length)
        {
            (int headerStart, int headerLength) = Prefix(stream.Span, at);
            if (headerLength == 0)
            {
                break;
            }

            ReadOnlyMemory<byte> header = stream.Slice(headerStart, headerLength);
            long bodyLength = BodyLengthOf(header.Span);
            if (bodyLength < 0 || bodyLength > stream.Length - headerStart - headerLength)
            {
                throw new InvalidDataException($"an IPC message declares a {bodyLength}-byte body past the end of its stream");
            }

            messages.Add(new IpcMessage(header, stream.Slice(headerStart + headerLength, (int)bodyLength)));
            at = headerStart + headerLength + (int)bodyLength;
        }

        return messages;
    }

    /// <summary>Where an encapsulated message's flatbuffer starts and its length, from its 4- or 8-byte prefix.</summary>
    public static (int HeaderStart, int HeaderLength) Prefix(ReadOnlySpan<byte> data, int at)
    {
        int first = FlatTable.ReadInt32(data, at);
        (int start, int length) = first == -1 ? (at + 8, FlatTable.ReadInt32(data, at + 4)) : (at + 4, first);
        return length < 0 || start > data.Length || length > data.Length - start
            ? throw new InvalidDataException($"an IPC message at {at} declares {length} bytes of metadata past the end of its data")
            : (start, length);
    }
}
