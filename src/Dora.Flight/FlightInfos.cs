using Dora.Core.Paths;
using Dora.Flight.Protocol;
using Dora.Formats;
using Dora.Worker.Reading;
using Google.Protobuf;

namespace Dora.Flight;

/// <summary>
/// Builds FlightInfo: a file's Arrow schema and its endpoints (one per Parquet row group, Arrow IPC batch, or
/// page-aligned range piece), each located at the file's owner so clients read from the worker that caches it.
/// </summary>
internal sealed class FlightInfos(FlightContext flight)
{
    private StorageEngine Engine => flight.Engine;

    /// <summary>PATH: the file as batches when it is Parquet or Arrow IPC, else as ranges; CMD: the ticket's request.</summary>
    public async Task<FlightInfo> BuildAsync(FlightDescriptor descriptor, CancellationToken cancellationToken)
    {
        DoraTicket ticket = descriptor.Type switch
        {
            FlightDescriptor.Types.DescriptorType.Path when descriptor.Path.Count == 1 => new DoraTicket { Kind = "batches", Path = descriptor.Path[0] },
            FlightDescriptor.Types.DescriptorType.Path => throw new TicketException($"a PATH descriptor must hold exactly one path, not {descriptor.Path.Count}"),
            FlightDescriptor.Types.DescriptorType.Cmd => DoraTicket.Parse(descriptor.Cmd.Span),
            _ => throw new TicketException("the descriptor's type must be PATH or CMD"),
        };
        if (ticket.Kind == "batches")
        {
            bool wholeFile = descriptor.Type == FlightDescriptor.Types.DescriptorType.Path;
            return await BatchesAsync(descriptor, ticket, fallBackToRange: wholeFile, cancellationToken).ConfigureAwait(false);
        }

        (OpenedFile file, long offset, long end) = await TicketRanges.OpenAsync(Engine, ticket, cancellationToken).ConfigureAwait(false);
        return Range(descriptor, file.Path.Value, offset, end);
    }

    /// <summary>
    /// A Parquet file (or a batches command): its Arrow schema and one <c>batches</c> endpoint per row group at the
    /// owner. A PATH that is not Parquet, or has columns batches cannot decode, is described as raw ranges instead.
    /// </summary>
    private async Task<FlightInfo> BatchesAsync(FlightDescriptor descriptor, DoraTicket ticket, bool fallBackToRange, CancellationToken cancellationToken)
    {
        DoraPath path = DoraPath.Parse(ticket.Path);
        OpenedFile file = await Engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        if (ticket.Columns is null && await ArrowIpcFile.IsArrowFileAsync(Engine, file, cancellationToken).ConfigureAwait(false))
        {
            return await ArrowAsync(descriptor, file, ticket, cancellationToken).ConfigureAwait(false);
        }

        ParquetFooter parquet;
        Apache.Arrow.Schema schema;
        try
        {
            parquet = await ParquetFooter.ReadAsync(Engine, file, cancellationToken).ConfigureAwait(false);
            schema = ParquetBatches.SchemaFor(ParquetBatches.Select(parquet.Schema, ticket.Columns, path.Value), path.Value);
        }
        catch (Exception e) when (fallBackToRange && e is TicketException or FileLayoutException)
        {
            return Range(descriptor, path.Value, 0, file.Length);
        }

        var info = NewInfo(descriptor, Ipc.IpcEncoder.EncapsulatedSchema(schema), file.Length);
        string location = flight.OwnerUri(path.Value);
        foreach (int rowGroup in ParquetBatches.RowGroups(parquet.Metadata, ticket.RowGroups, path.Value))
        {
            info.Endpoint.Add(Endpoint(new DoraTicket { Kind = "batches", Path = path.Value, RowGroups = [rowGroup], Columns = ticket.Columns }, location));
            info.TotalRecords += parquet.Metadata.RowGroups[rowGroup].NumRows;
        }

        return info;
    }

    /// <summary>The FlightInfo of <c>[offset, end)</c> of a file: endpoints split at page-aligned steps, at the owner.</summary>
    public FlightInfo Range(FlightDescriptor descriptor, string path, long offset, long end)
    {
        int pageSize = Engine.Pages.PageSize;
        long step = Math.Max(pageSize, flight.Options.MaxEndpointBytes / pageSize * pageSize);
        string location = flight.OwnerUri(path);
        var info = NewInfo(descriptor, RangeBatches.EncapsulatedSchema, end - offset);
        for (long start = offset; start < end;)
        {
            long stop = Math.Min(end, ((start / step) + 1) * step);
            info.Endpoint.Add(Endpoint(new DoraTicket { Kind = "range", Path = path, Offset = start, Length = stop - start }, location));
            info.TotalRecords += ((stop - 1) / pageSize) - (start / pageSize) + 1;
            start = stop;
        }

        return info;
    }

    /// <summary>An Arrow IPC file: its schema and one endpoint per record batch (total records left unknown: -1).</summary>
    private async Task<FlightInfo> ArrowAsync(FlightDescriptor descriptor, OpenedFile file, DoraTicket ticket, CancellationToken cancellationToken)
    {
        ArrowIpcFile ipc = await ArrowIpcFile.OpenAsync(Engine, file, cancellationToken).ConfigureAwait(false);
        var info = NewInfo(descriptor, ipc.Layout.EncapsulatedSchema, file.Length);
        info.TotalRecords = -1;
        string location = flight.OwnerUri(file.Path.Value);
        foreach (int index in ticket.RowGroups ?? [.. Enumerable.Range(0, ipc.Layout.Batches.Count)])
        {
            ipc.Layout.Batch(index);
            info.Endpoint.Add(Endpoint(new DoraTicket { Kind = "batches", Path = file.Path.Value, RowGroups = [index] }, location));
        }

        return info;
    }

    private static FlightInfo NewInfo(FlightDescriptor descriptor, byte[] schema, long totalBytes) => new()
    {
        Schema = ByteString.CopyFrom(schema),
        FlightDescriptor = descriptor,
        TotalBytes = totalBytes,
        Ordered = true,
    };

    private static FlightEndpoint Endpoint(DoraTicket ticket, string location) => new()
    {
        Ticket = new Ticket { Ticket_ = ByteString.CopyFrom(ticket.ToJson()) },
        Location = { new Location { Uri = location } },
    };
}
