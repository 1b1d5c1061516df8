using Dora.Flight.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight.Ipc;

/// <summary>Sends IPC messages as FlightData, wrapping the caller's buffers instead of copying them.</summary>
internal static class FlightDataWriter
{
    /// <summary>
    /// Sends one message. The buffers are only wrapped: gRPC serializes them into the response as part of this call, so
    /// the caller may reuse them once the returned task completes, and not before.
    /// </summary>
    public static Task WriteMessageAsync(this IAsyncStreamWriter<FlightData> stream, IpcMessage message) =>
        stream.WriteAsync(new FlightData
        {
            DataHeader = UnsafeByteOperations.UnsafeWrap(message.Header),
            DataBody = UnsafeByteOperations.UnsafeWrap(message.Body),
        });
}
