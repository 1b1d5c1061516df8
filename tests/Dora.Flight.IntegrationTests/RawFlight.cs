using Dora.Flight.Protocol;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dora.Flight.IntegrationTests;

/// <summary>
/// Calls a worker's Flight service with the protocol messages themselves, for what the Arrow client hides: the exact
/// FlightData bytes on the wire, and PollFlightInfo.
/// </summary>
internal sealed class RawFlight(GrpcChannel channel)
{
    private const string Service = "arrow.flight.protocol.FlightService";

    private static Method<TRequest, TResponse> MethodOf<TRequest, TResponse>(MethodType type, string name, MessageParser<TRequest> requests, MessageParser<TResponse> responses)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        new(type, Service, name, Marshallers.Create(m => m.ToByteArray(), requests.ParseFrom), Marshallers.Create(m => m.ToByteArray(), responses.ParseFrom));

    private static readonly Method<Ticket, FlightData> DoGetMethod = MethodOf(MethodType.ServerStreaming, "DoGet", Ticket.Parser, FlightData.Parser);

    private static readonly Method<FlightDescriptor, PollInfo> PollMethod = MethodOf(MethodType.Unary, "PollFlightInfo", FlightDescriptor.Parser, PollInfo.Parser);

    private static readonly Method<FlightDescriptor, FlightInfo> InfoMethod = MethodOf(MethodType.Unary, "GetFlightInfo", FlightDescriptor.Parser, FlightInfo.Parser);

    private CallInvoker Invoker => channel.CreateCallInvoker();

    public static RawFlight Of(FlightCluster cluster, int worker) => new(cluster.Channel(worker));

    /// <summary>Every FlightData message of a DoGet, as received.</summary>
    public async Task<List<FlightData>> DoGetAsync(string ticketJson)
    {
        using var call = Invoker.AsyncServerStreamingCall(DoGetMethod, null, new CallOptions(), new Ticket { Ticket_ = ByteString.CopyFromUtf8(ticketJson) });
        var messages = new List<FlightData>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(TestTimeouts.Default))
        {
            messages.Add(call.ResponseStream.Current);
        }

        return messages;
    }

    /// <summary>
    /// A DoGet's batches decoded by Arrow's IPC stream reader from the messages as received: the way to read streams
    /// with dictionary batches, which the Apache.Arrow.Flight client does not implement.
    /// </summary>
    public async Task<List<Apache.Arrow.RecordBatch>> ReadBatchesAsync(string ticketJson)
    {
        using var stream = new MemoryStream();
        foreach (FlightData message in await DoGetAsync(ticketJson))
        {
            int padded = (message.DataHeader.Length + 7) & ~7;
            stream.Write([0xFF, 0xFF, 0xFF, 0xFF]);
            stream.Write(BitConverter.GetBytes(padded));
            stream.Write(message.DataHeader.Span);
            stream.Write(new byte[padded - message.DataHeader.Length]);
            stream.Write(message.DataBody.Span);
        }

        stream.Write([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        stream.Position = 0;
        using var reader = new Apache.Arrow.Ipc.ArrowStreamReader(stream);
        var batches = new List<Apache.Arrow.RecordBatch>();
        while (await reader.ReadNextRecordBatchAsync() is { } batch)
        {
            batches.Add(batch);
        }

        return batches;
    }

    public async Task<PollInfo> PollAsync(FlightDescriptor descriptor) =>
        await Invoker.AsyncUnaryCall(PollMethod, null, new CallOptions(), descriptor).ResponseAsync.WaitAsync(TestTimeouts.Default);

    public async Task<FlightInfo> InfoAsync(FlightDescriptor descriptor) =>
        await Invoker.AsyncUnaryCall(InfoMethod, null, new CallOptions(), descriptor).ResponseAsync.WaitAsync(TestTimeouts.Default);

    public static FlightDescriptor PathDescriptor(string path) =>
        new() { Type = FlightDescriptor.Types.DescriptorType.Path, Path = { path } };
}
