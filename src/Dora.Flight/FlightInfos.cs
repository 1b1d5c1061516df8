using Dora.Core.Paths;
using Dora.Flight.Columnar;
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
            OpenedFile opened = await Engine.OpenAsync(DoraPath.Parse(ticket.Path), cancellationToken).ConfigureAwait(false);
            bool wholeFile = descriptor.Type == FlightDescriptor.Types.DescriptorType.Path;
            return await BatchesAsync(descriptor, opened, ticket, wholeFile, cancellationToken).ConfigureAwait(false);
        }

        (OpenedFile file, long offset, long end) = await TicketRanges.OpenAsync(Engine, ticket, cancellationToken).ConfigureAwait(false);
        return Range(descriptor, file.Path.Value, offset, end);
    }

    /// <summary>
    /// A listed file as <c>GetFlightInfo(PATH)</c> describes it. A Parquet or Arrow file whose footer cannot be read is
    /// listed with its <c>range</c> endpoints and <c>app_metadata</c> <c>{"error": why}</c> (GetFlightInfo on it fails
    /// with that reason), so one damaged file neither ends the listing nor hides among the readable ones.
    /// </summary>
    public async Task<FlightInfo> ListedAsync(DoraPath path, CancellationToken cancellationToken)
    {
        var descriptor = new FlightDescriptor { Type = FlightDescriptor.Types.DescriptorType.Path, Path = { path.Value } };
        OpenedFile file = await Engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        try
        {
            return await BatchesAsync(descriptor, file, new DoraTicket { Kind = "batches", Path = path.Value }, wholeFile: true, cancellationToken).ConfigureAwait(false);
        }
        catch (FileLayoutException e)
        {
            FlightInfo info = Range(descriptor, path.Value, 0, file.Length);
            info.AppMetadata = ByteString.CopyFrom(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["error"] = e.Message }));
            return info;
        }
    }

    /// <summary>
    /// A <c>batches</c> request: a Parquet file's Arrow schema and one endpoint per chosen row group, or an Arrow IPC
    /// file's schema and one endpoint per record batch, at the owner. A file that is neither is described as raw
    /// ranges for a whole-file PATH, and refused for a batches command. Every endpoint described here is served.
    /// </summary>
    private async Task<FlightInfo> BatchesAsync(FlightDescriptor descriptor, OpenedFile file, DoraTicket ticket, bool wholeFile, CancellationToken cancellationToken)
    {
        string path = file.Path.Value;
        switch (await BatchFiles.KindOfAsync(Engine, file, cancellationToken).ConfigureAwait(false))
        {
            case BatchFiles.Kind.ArrowIpc:
                return await ArrowAsync(descriptor, file, ticket, cancellationToken).ConfigureAwait(false);
            case BatchFiles.Kind.Other:
                return wholeFile ? Range(descriptor, path, 0, file.Length) : throw BatchFiles.NotDecodable(file);
        }

        using ParquetArrowFile parquet = await ParquetArrowFile.OpenAsync(Engine, file, flight.Options.MaxBatchRows, cancellationToken).ConfigureAwait(false);
        ParquetColumns.Selection selection = parquet.Columns.Select(ticket.Columns);
        var info = NewInfo(descriptor, Ipc.IpcEncoder.EncapsulatedSchema(parquet.SchemaOf(selection)), file.Length);
        string location = flight.OwnerUri(path);
        foreach (int rowGroup in parquet.RowGroups(ticket.RowGroups))
        {
            info.Endpoint.Add(Endpoint(new DoraTicket { Kind = "batches", Path = path, RowGroups = [rowGroup], Columns = ticket.Columns }, location));
            info.TotalRecords += parquet.RowsIn(rowGroup);
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
        ArrowIpcFile.RefuseColumns(file, ticket);
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
