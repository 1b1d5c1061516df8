using System.Text.Json;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Resources;
using Dora.Flight.Protocol;
using Dora.Formats;
using Dora.Worker.Reading;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight;

/// <summary>
/// The Arrow Flight service of a worker (docs/flight.md), on the Flight wire contract of Protocol/Flight.proto: raw
/// byte ranges and column chunks as record batches built over page buffers, decoded Parquet batches, Arrow IPC
/// batches as stored, FlightInfo that points at each file's owner, and actions. Every failure maps to a gRPC status
/// that names the problem. DoPut and DoExchange are not served (Dora is a read cache): they answer Unimplemented.
/// </summary>
public sealed class DoraFlightService(FlightContext flight) : FlightService.FlightServiceBase
{
    /// <summary>Most flights one ListFlights call returns.</summary>
    private const int MaxListedFlights = 100_000;

    private readonly FlightInfos _infos = new(flight);
    private readonly RangeStream _ranges = new(flight.Engine, flight.Options);
    private readonly BatchStreams _batches = new(flight.Engine, flight.Options, flight.DecodeBudget, flight.DecodeSlots);

    private StorageEngine Engine => flight.Engine;

    public override Task DoGet(Ticket request, IServerStreamWriter<FlightData> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        CancellationToken cancellationToken = context.CancellationToken;
        return Guard("DoGet", async () =>
        {
            DoraTicket ticket = DoraTicket.Parse(request.Ticket_.Span);
            if (ticket.Kind != "batches")
            {
                (OpenedFile file, long offset, long end) = await TicketRanges.OpenAsync(Engine, ticket, cancellationToken).ConfigureAwait(false);
                await _ranges.SendAsync(file, offset, end, responseStream, cancellationToken).ConfigureAwait(false);
                return;
            }

            OpenedFile opened = await Engine.OpenAsync(DoraPath.Parse(ticket.Path), cancellationToken).ConfigureAwait(false);
            await (await BatchFiles.KindOfAsync(Engine, opened, cancellationToken).ConfigureAwait(false) switch
            {
                BatchFiles.Kind.ArrowIpc => _batches.SendArrowAsync(opened, ticket, responseStream, cancellationToken),
                BatchFiles.Kind.Parquet => _batches.SendParquetAsync(opened, ticket, responseStream, cancellationToken),
                _ => throw BatchFiles.NotDecodable(opened),
            }).ConfigureAwait(false);
        });
    }

    public override async Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        FlightInfo? info = null;
        await Guard("GetFlightInfo", async () => info = await _infos.BuildAsync(request, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return info!;
    }

    /// <summary>Every FlightInfo is complete when first asked for: the poll answers with it and no further descriptor.</summary>
    public override async Task<PollInfo> PollFlightInfo(FlightDescriptor request, ServerCallContext context) =>
        new() { Info = await GetFlightInfo(request, context).ConfigureAwait(false), Progress = 1.0 };

    public override async Task<SchemaResult> GetSchema(FlightDescriptor request, ServerCallContext context) =>
        new() { Schema = (await GetFlightInfo(request, context).ConfigureAwait(false)).Schema };

    /// <summary>
    /// ListFlights: every file under the criteria's path (a directory, recursively, or one file), each described as
    /// GetFlightInfo(PATH) describes it; an empty criteria lists from the root. At most 100,000 flights per call.
    /// </summary>
    public override Task ListFlights(Criteria request, IServerStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        CancellationToken cancellationToken = context.CancellationToken;
        return Guard("ListFlights", async () =>
        {
            string text = request.Expression.ToStringUtf8();
            DoraPath root = text.Length == 0 ? DoraPath.Root : DoraPath.Parse(text);
            var status = await Engine.GetStatusAsync(root, cancellationToken).ConfigureAwait(false);
            if (!status.IsDirectory)
            {
                await responseStream.WriteAsync(await _infos.ListedAsync(root, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                return;
            }

            int listed = 0;
            var pending = new Stack<DoraPath>();
            pending.Push(root);
            while (pending.Count > 0 && listed < MaxListedFlights)
            {
                DoraPath directory = pending.Pop();
                string? after = null;
                do
                {
                    var page = await Engine.ListAsync(directory, after, 1000, cancellationToken).ConfigureAwait(false);
                    foreach (var entry in page.Entries)
                    {
                        DoraPath child = directory.Combine(entry.Name);
                        if (entry.IsDirectory)
                        {
                            pending.Push(child);
                        }
                        else if (listed++ < MaxListedFlights)
                        {
                            await responseStream.WriteAsync(await _infos.ListedAsync(child, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                        }
                    }

                    after = page.NextToken;
                }
                while (after is not null && listed < MaxListedFlights);
            }
        });
    }

    /// <summary>
    /// Handshake: with a token configured the client proves it by the payload or the authorization header, and gets the
    /// token back as the payload; without one any handshake succeeds.
    /// </summary>
    public override async Task Handshake(IAsyncStreamReader<HandshakeRequest> requestStream, IServerStreamWriter<HandshakeResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            ByteString payload = requestStream.Current.Payload;
            if (flight.Options.Tokens is { } tokens
                && !tokens.Accepts(payload.ToStringUtf8())
                && !BearerTokenInterceptor.HasToken(context.RequestHeaders, tokens))
            {
                flight.Audit.Refused(context.Peer, "a handshake without an accepted token");
                throw new RpcException(new Status(StatusCode.Unauthenticated, "the handshake did not present this worker's token"));
            }

            await responseStream.WriteAsync(new HandshakeResponse { ProtocolVersion = requestStream.Current.ProtocolVersion, Payload = payload }).ConfigureAwait(false);
        }
    }

    public override async Task ListActions(Empty request, IServerStreamWriter<ActionType> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        foreach (ActionType action in FlightActions.All)
        {
            await responseStream.WriteAsync(action).ConfigureAwait(false);
        }
    }

    public override Task DoAction(Protocol.Action request, IServerStreamWriter<Result> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        return Guard("DoAction", async () =>
        {
            byte[] result = await FlightActions.RunAsync(flight, request.Type, request.Body.Memory, context.CancellationToken).ConfigureAwait(false);
            await responseStream.WriteAsync(new Result { Body = UnsafeByteOperations.UnsafeWrap(result) }).ConfigureAwait(false);
        });
    }

    /// <summary>Runs a call, turns Dora's errors into gRPC statuses that name the problem, and records how long it took.</summary>
    private async Task Guard(string method, Func<Task> call)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (ToStatus(e) is { } status)
        {
            throw new RpcException(status);
        }
        catch (Exception e) when (e is not (OperationCanceledException or RpcException))
        {
            // A fault of the worker itself: the caller learns what failed (never a bare UNKNOWN), the log keeps the trace.
            FlightLog.CallFailed(flight.Logger, method, e);
            throw new RpcException(new Status(StatusCode.Internal, $"{method} failed inside the worker ({e.GetType().Name}: {e.Message})"));
        }
        finally
        {
            Engine.Metrics.FlightCallTook(System.Diagnostics.Stopwatch.GetElapsedTime(started), method);
        }
    }

    private static Status? ToStatus(Exception error) => error switch
    {
        TicketException or FileLayoutException => new Status(StatusCode.InvalidArgument, error.Message),
        InvalidPathException => new Status(StatusCode.InvalidArgument, error.Message),
        DoraFileNotFoundException => new Status(StatusCode.NotFound, error.Message),
        InvalidRangeException => new Status(StatusCode.OutOfRange, error.Message),
        JsonException => new Status(StatusCode.InvalidArgument, $"the action body is not valid JSON: {error.Message}"),
        InvalidDataException => new Status(StatusCode.InvalidArgument, $"the file is not valid Arrow data: {error.Message}"),
        BudgetExceededException => new Status(StatusCode.ResourceExhausted, error.Message),
        VersionMismatchException => new Status(StatusCode.FailedPrecondition, error.Message),
        DoraException { IsTransient: true } => new Status(StatusCode.Unavailable, error.Message),
        DoraException => new Status(StatusCode.FailedPrecondition, error.Message),
        IOException => new Status(StatusCode.Unavailable, error.Message),
        _ => null,
    };
}
