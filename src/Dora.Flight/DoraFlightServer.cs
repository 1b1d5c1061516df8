using System.Buffers;
using System.Text.Json;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Worker.Reading;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight;

/// <summary>
/// The Arrow Flight service of a worker (docs/flight.md): raw byte ranges as record batches, FlightInfo that points at
/// each range's owner, and actions. Every failure maps to a gRPC status that names the problem.
/// </summary>
public sealed class DoraFlightServer(FlightContext flight) : FlightServer
{
    /// <summary>Bytes of page data per record batch: below the 4 MiB message limit with room for the batch's framing.</summary>
    private int BatchDataBytes => Math.Max(flight.Engine.Pages.PageSize, flight.Options.MaxMessageBytes - (256 << 10));

    public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await Guard(async () =>
        {
            DoraTicket parsed = DoraTicket.Parse(ticket.Ticket.Span);
            if (parsed.Kind == "batches")
            {
                await StreamBatchesAsync(parsed, responseStream, context.CancellationToken).ConfigureAwait(false);
                return;
            }

            (OpenedFile file, long offset, long end) = await OpenRangeAsync(parsed, context.CancellationToken).ConfigureAwait(false);
            await responseStream.SetupStream(RangeBatches.Schema).ConfigureAwait(false);
            await StreamRangeAsync(file, offset, end, responseStream, context.CancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Decodes the ticket's row groups and columns and sends them as Arrow record batches, schema first.</summary>
    private async Task StreamBatchesAsync(DoraTicket ticket, FlightServerRecordBatchStreamWriter stream, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(ticket.Path);
        OpenedFile file = await flight.Engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        if (await ArrowIpcFile.IsArrowFileAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false))
        {
            await StreamArrowBatchesAsync(file, ticket, stream, cancellationToken).ConfigureAwait(false);
            return;
        }

        ParquetFooter parquet = await ParquetFooter.ReadAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false);
        Parquet.Schema.DataField[] fields = ParquetBatches.Select(parquet.Schema, ticket.Columns, path.Value);
        Apache.Arrow.Schema schema = ParquetBatches.SchemaFor(fields, path.Value);
        int groups = parquet.Metadata.RowGroups.Count;
        IReadOnlyList<int> rowGroups = ticket.RowGroups ?? [.. Enumerable.Range(0, groups)];
        foreach (int rowGroup in rowGroups)
        {
            if (rowGroup < 0 || rowGroup >= groups)
            {
                throw new TicketException($"'{path.Value}' has {groups} row groups; rowGroup {rowGroup} does not exist");
            }
        }

        await stream.SetupStream(schema).ConfigureAwait(false);
        foreach (int rowGroup in rowGroups)
        {
            (Parquet.ParquetReader reader, Stream source) = await parquet.OpenRowGroupAsync(rowGroup, fields, cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            await using (reader.ConfigureAwait(false))
            {
                foreach (Apache.Arrow.RecordBatch batch in await ParquetBatches.ReadRowGroupAsync(reader, rowGroup, fields, schema, BatchDataBytes, cancellationToken).ConfigureAwait(false))
                {
                    using (batch)
                    {
                        await stream.WriteAsync(batch).ConfigureAwait(false);
                    }
                }
            }
        }
    }

    /// <summary>An Arrow IPC file's record batches (all, or those the ticket's <c>rowGroups</c> name), as the file has them.</summary>
    private async Task StreamArrowBatchesAsync(OpenedFile file, DoraTicket ticket, FlightServerRecordBatchStreamWriter stream, CancellationToken cancellationToken)
    {
        if (ticket.Columns is not null)
        {
            throw new TicketException($"'{file.Path}' is an Arrow IPC file: its batches are served whole, without \"columns\"");
        }

        (Apache.Arrow.Ipc.ArrowFileReader reader, int count) = await ArrowIpcFile.OpenAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false);
        using (reader)
        {
            IReadOnlyList<int> indexes = ticket.RowGroups ?? [.. Enumerable.Range(0, count)];
            foreach (int index in indexes)
            {
                if (index < 0 || index >= count)
                {
                    throw new TicketException($"'{file.Path}' has {count} record batches; batch {index} does not exist");
                }
            }

            await stream.SetupStream(reader.Schema).ConfigureAwait(false);
            foreach (int index in indexes)
            {
                using Apache.Arrow.RecordBatch batch = await reader.ReadRecordBatchAsync(index, cancellationToken).ConfigureAwait(false);
                await stream.WriteAsync(batch).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends <c>[offset, end)</c> as batches of whole page-sized pieces, each batch read into one pooled buffer.</summary>
    private async Task StreamRangeAsync(OpenedFile file, long offset, long end, FlightServerRecordBatchStreamWriter stream, CancellationToken cancellationToken)
    {
        int pageSize = flight.Engine.Pages.PageSize;
        int batchBytes = BatchDataBytes;

        // The pool may hand out a larger array; the batch limit is what keeps messages under the gRPC limit.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(batchBytes);
        try
        {
            var lengths = new List<int>();
            while (offset < end)
            {
                lengths.Clear();
                int filled = 0;
                long batchStart = offset;
                while (offset < end)
                {
                    // Pieces end at page boundaries, so each row is (part of) one page.
                    int piece = (int)Math.Min(pageSize - (offset % pageSize), end - offset);
                    if (filled + piece > batchBytes)
                    {
                        break;
                    }

                    int read = await flight.Engine.ReadAsync(file, offset, buffer.AsMemory(filled, piece), cancellationToken).ConfigureAwait(false);
                    if (read != piece)
                    {
                        throw new IOException($"'{file.Path}' ended at {offset + read} bytes while {end} were expected (changed while reading?)");
                    }

                    lengths.Add(piece);
                    filled += piece;
                    offset += piece;
                }

                using var batch = RangeBatches.Build(batchStart, buffer.AsMemory(0, filled), lengths);
                await stream.WriteAsync(batch).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Opens the ticket's file and finds its byte range: a <c>chunk</c> from the Parquet footer, a <c>range</c> as given,
    /// clamped at the end of the file (an offset equal to the length is an empty range, past it an error).
    /// </summary>
    private async Task<(OpenedFile File, long Offset, long End)> OpenRangeAsync(DoraTicket ticket, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(ticket.Path);
        OpenedFile file = await flight.Engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        if (ticket.Kind == "chunk" && await ArrowIpcFile.IsArrowFileAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false))
        {
            // For an Arrow IPC file a chunk is a record batch block: "rowGroup" is the batch, "column" is not used.
            (long blockStart, long blockLength) = await ArrowIpcFile.BlockRangeAsync(flight.Engine, file, ticket.RowGroup!.Value, cancellationToken).ConfigureAwait(false);
            return (file, blockStart, blockStart + blockLength);
        }

        if (ticket.Kind == "chunk")
        {
            var parquet = await ParquetFooter.ReadAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(ticket.Column))
            {
                throw new TicketException($"a chunk ticket of a Parquet file needs \"column\"");
            }

            (long start, long size) = ParquetFooter.ChunkRange(parquet.Metadata, path.Value, ticket.RowGroup!.Value, ticket.Column);
            if (start < 0 || size < 0 || start + size > file.Length)
            {
                throw new TicketException($"'{path.Value}' has a damaged footer: column '{ticket.Column}' of row group {ticket.RowGroup} lies outside the file");
            }

            return (file, start, start + size);
        }

        return (file, ticket.Offset, file.RangeEnd(ticket.Offset, ticket.Length));
    }

    public override async Task<FlightInfo> GetFlightInfo(FlightDescriptor request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        FlightInfo? info = null;
        await Guard(async () => info = await BuildInfoAsync(request, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return info!;
    }

    public override async Task<Apache.Arrow.Schema> GetSchema(FlightDescriptor request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        FlightInfo? info = null;
        await Guard(async () => info = await BuildInfoAsync(request, context.CancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return info!.Schema;
    }

    /// <summary>
    /// PATH: the whole file as <c>range</c> endpoints; CMD: the ticket's range. Large ranges are split into endpoints
    /// of at most <see cref="FlightOptions.MaxEndpointBytes"/> at page boundaries, each at the owner's URI.
    /// </summary>
    private async Task<FlightInfo> BuildInfoAsync(FlightDescriptor descriptor, CancellationToken cancellationToken)
    {
        DoraTicket ticket = descriptor.Type switch
        {
            FlightDescriptorType.Path when descriptor.Paths.Count() == 1 => new DoraTicket { Kind = "batches", Path = descriptor.Paths.First() },
            FlightDescriptorType.Path => throw new TicketException($"a PATH descriptor must hold exactly one path, not {descriptor.Paths.Count()}"),
            _ => DoraTicket.Parse(descriptor.Command.Span),
        };
        if (ticket.Kind == "batches")
        {
            bool wholeFile = descriptor.Type == FlightDescriptorType.Path;
            return await BatchesInfoAsync(descriptor, ticket, fallBackToRange: wholeFile, cancellationToken).ConfigureAwait(false);
        }

        (OpenedFile file, long offset, long end) = await OpenRangeAsync(ticket, cancellationToken).ConfigureAwait(false);
        return RangeInfo(descriptor, file.Path.Value, offset, end);
    }

    /// <summary>
    /// A Parquet file (or a batches command): its Arrow schema and one <c>batches</c> endpoint per row group at the
    /// owner. A PATH that is not Parquet, or has columns batches cannot decode, is described as raw ranges instead.
    /// </summary>
    private async Task<FlightInfo> BatchesInfoAsync(FlightDescriptor descriptor, DoraTicket ticket, bool fallBackToRange, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(ticket.Path);
        OpenedFile file = await flight.Engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        if (ticket.Columns is null && await ArrowIpcFile.IsArrowFileAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false))
        {
            return await ArrowInfoAsync(descriptor, file, ticket, cancellationToken).ConfigureAwait(false);
        }

        ParquetFooter parquet;
        Apache.Arrow.Schema schema;
        Parquet.Schema.DataField[] fields;
        try
        {
            parquet = await ParquetFooter.ReadAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false);
            fields = ParquetBatches.Select(parquet.Schema, ticket.Columns, path.Value);
            schema = ParquetBatches.SchemaFor(fields, path.Value);
        }
        catch (TicketException) when (fallBackToRange)
        {
            return RangeInfo(descriptor, path.Value, 0, file.Length);
        }

        int groups = parquet.Metadata.RowGroups.Count;
        IReadOnlyList<int> rowGroups = ticket.RowGroups ?? [.. Enumerable.Range(0, groups)];
        string location = flight.OwnerUri(path.Value);
        var endpoints = new List<FlightEndpoint>();
        long records = 0;
        foreach (int rowGroup in rowGroups)
        {
            if (rowGroup < 0 || rowGroup >= groups)
            {
                throw new TicketException($"'{path.Value}' has {groups} row groups; rowGroup {rowGroup} does not exist");
            }

            var piece = new DoraTicket { Kind = "batches", Path = path.Value, RowGroups = [rowGroup], Columns = ticket.Columns };
            endpoints.Add(new FlightEndpoint(new FlightTicket(ByteString.CopyFrom(piece.ToJson())), [new FlightLocation(location)]));
            records += parquet.Metadata.RowGroups[rowGroup].NumRows;
        }

        return new FlightInfo(schema, descriptor, endpoints, records, file.Length);
    }

    /// <summary>The FlightInfo of <c>[offset, end)</c> of a file: endpoints split at page-aligned steps, at the owner.</summary>
    private FlightInfo RangeInfo(FlightDescriptor descriptor, string path, long offset, long end)
    {
        int pageSize = flight.Engine.Pages.PageSize;
        long step = Math.Max(pageSize, flight.Options.MaxEndpointBytes / pageSize * pageSize);
        string location = flight.OwnerUri(path);
        var endpoints = new List<FlightEndpoint>();
        long records = 0;
        for (long start = offset; start < end;)
        {
            long stop = Math.Min(end, ((start / step) + 1) * step);
            var piece = new DoraTicket { Kind = "range", Path = path, Offset = start, Length = stop - start };
            endpoints.Add(new FlightEndpoint(new FlightTicket(ByteString.CopyFrom(piece.ToJson())), [new FlightLocation(location)]));
            records += ((stop - 1) / pageSize) - (start / pageSize) + 1;
            start = stop;
        }

        return new FlightInfo(RangeBatches.Schema, descriptor, endpoints, records, end - offset);
    }

    /// <summary>An Arrow IPC file: its schema and one endpoint per record batch (total records left unknown: -1).</summary>
    private async Task<FlightInfo> ArrowInfoAsync(FlightDescriptor descriptor, OpenedFile file, DoraTicket ticket, CancellationToken cancellationToken)
    {
        (Apache.Arrow.Ipc.ArrowFileReader reader, int count) = await ArrowIpcFile.OpenAsync(flight.Engine, file, cancellationToken).ConfigureAwait(false);
        using (reader)
        {
            string location = flight.OwnerUri(file.Path.Value);
            var endpoints = new List<FlightEndpoint>();
            foreach (int index in ticket.RowGroups ?? [.. Enumerable.Range(0, count)])
            {
                if (index < 0 || index >= count)
                {
                    throw new TicketException($"'{file.Path}' has {count} record batches; batch {index} does not exist");
                }

                var piece = new DoraTicket { Kind = "batches", Path = file.Path.Value, RowGroups = [index] };
                endpoints.Add(new FlightEndpoint(new FlightTicket(ByteString.CopyFrom(piece.ToJson())), [new FlightLocation(location)]));
            }

            return new FlightInfo(reader.Schema, descriptor, endpoints, -1, file.Length);
        }
    }

    /// <summary>Most flights one ListFlights call returns.</summary>
    private const int MaxListedFlights = 100_000;

    /// <summary>
    /// ListFlights: every file under the criteria's path (a directory, recursively, or one file), as PATH flights;
    /// an empty criteria lists from the root. At most 100,000 flights per call.
    /// </summary>
    public override async Task ListFlights(FlightCriteria request, IAsyncStreamWriter<FlightInfo> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await Guard(async () =>
        {
            string text = request.Expression.ToStringUtf8();
            DoraPath root = text.Length == 0 ? DoraPath.Root : DoraPath.Parse(text);
            var status = await flight.Engine.GetStatusAsync(root, context.CancellationToken).ConfigureAwait(false);
            if (!status.IsDirectory)
            {
                await responseStream.WriteAsync(RangeInfo(FlightDescriptor.CreatePathDescriptor(root.Value), root.Value, 0, status.Length)).ConfigureAwait(false);
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
                    var page = await flight.Engine.ListAsync(directory, after, 1000, context.CancellationToken).ConfigureAwait(false);
                    foreach (var entry in page.Entries)
                    {
                        DoraPath child = directory.Combine(entry.Name);
                        if (entry.IsDirectory)
                        {
                            pending.Push(child);
                        }
                        else if (listed++ < MaxListedFlights)
                        {
                            await responseStream.WriteAsync(RangeInfo(FlightDescriptor.CreatePathDescriptor(child.Value), child.Value, 0, entry.Length)).ConfigureAwait(false);
                        }
                    }

                    after = page.NextToken;
                }
                while (after is not null && listed < MaxListedFlights);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Handshake: with a token configured the client proves it by the payload or the authorization header, and gets the
    /// token back as the payload; without one any handshake succeeds.
    /// </summary>
    public override async Task Handshake(IAsyncStreamReader<FlightHandshakeRequest> requestStream, IAsyncStreamWriter<FlightHandshakeResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            ByteString payload = requestStream.Current.Payload;
            if (flight.Options.AuthToken is { } expected
                && !BearerTokenInterceptor.Matches(payload.ToStringUtf8(), expected)
                && !BearerTokenInterceptor.HasToken(context.RequestHeaders, expected))
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, "the handshake did not present this worker's token"));
            }

            await responseStream.WriteAsync(new FlightHandshakeResponse(payload)).ConfigureAwait(false);
        }
    }

    public override Task ListActions(IAsyncStreamWriter<FlightActionType> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        return ListActionsAsync(responseStream);
    }

    private static async Task ListActionsAsync(IAsyncStreamWriter<FlightActionType> responseStream)
    {
        foreach (FlightActionType action in FlightActions.All)
        {
            await responseStream.WriteAsync(action).ConfigureAwait(false);
        }
    }

    public override async Task DoAction(FlightAction request, IAsyncStreamWriter<FlightResult> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        await Guard(async () =>
        {
            byte[] result = await FlightActions.RunAsync(flight, request.Type, request.Body.Span.ToArray(), context.CancellationToken).ConfigureAwait(false);
            await responseStream.WriteAsync(new FlightResult(ByteString.CopyFrom(result))).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Runs a call and turns Dora's errors into gRPC statuses that name the problem.</summary>
    private static async Task Guard(Func<Task> call)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (ToStatus(e) is { } status)
        {
            throw new RpcException(status);
        }
    }

    private static Status? ToStatus(Exception error) => error switch
    {
        TicketException => new Status(StatusCode.InvalidArgument, error.Message),
        InvalidPathException => new Status(StatusCode.InvalidArgument, error.Message),
        DoraFileNotFoundException => new Status(StatusCode.NotFound, error.Message),
        InvalidRangeException => new Status(StatusCode.OutOfRange, error.Message),
        JsonException => new Status(StatusCode.InvalidArgument, $"the action body is not valid JSON: {error.Message}"),
        DoraException { IsTransient: true } => new Status(StatusCode.Unavailable, error.Message),
        DoraException => new Status(StatusCode.FailedPrecondition, error.Message),
        IOException => new Status(StatusCode.Unavailable, error.Message),
        _ => null,
    };
}
