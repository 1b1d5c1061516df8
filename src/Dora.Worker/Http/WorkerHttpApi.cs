using System.Globalization;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Worker.Metrics;
using Dora.Worker.Reading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dora.Worker.Http;

/// <summary>
/// The worker's HTTP endpoint: health, Prometheus metrics, file status, listings and byte-range reads. Every error is
/// an RFC 7807 problem naming the bad parameter; a cache miss is read through, never an error.
/// </summary>
public static class WorkerHttpApi
{
    /// <summary>Default page of <c>/v1/files</c> when no <c>limit</c> is given.</summary>
    public const int DefaultListingLimit = 1000;

    public static void Map(IEndpointRouteBuilder routes, StorageEngine engine, string workerId)
    {
        ArgumentNullException.ThrowIfNull(routes);

        // 200 whether ok or degraded: a degraded worker still serves every read (through the under storage).
        routes.MapGet("/healthz", () => Results.Json(StatusReplies.Health(engine, workerId), ProtocolJson.Default.HealthReply));
        routes.MapGet("/metrics", () => Results.Text(PrometheusText.Render(engine), PrometheusText.ContentType));
        routes.MapGet("/v1/info", (HttpContext context, CancellationToken ct) => GuardAsync(context, () => InfoAsync(engine, context, ct)));
        routes.MapGet("/v1/files", (HttpContext context, CancellationToken ct) => GuardAsync(context, () => ListAsync(engine, context, ct)));
        routes.MapGet("/v1/data", (HttpContext context, CancellationToken ct) => GuardAsync(context, () => DataAsync(engine, context, ct)));
    }

    private static async Task<IResult> GuardAsync(HttpContext context, Func<Task<IResult>> handler)
    {
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (DoraException e) when (!context.Response.HasStarted)
        {
            return HttpProblems.From(e);
        }
    }

    private static async Task<IResult> InfoAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var info = await engine.GetInfoAsync(path, cancellationToken).ConfigureAwait(false);
        var s = info.Status;
        return Results.Json(new FileInfoResponse(path.Value, path.Name, s.IsDirectory, s.Length, s.LastModified, s.ETag, info.CachedBytes));
    }

    private static async Task<IResult> ListAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var limit = DefaultListingLimit;
        var limitText = context.Request.Query["limit"].ToString();
        var maxLimit = engine.Metadata.MaxListingPage;
        if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            return HttpProblems.BadRequest($"the 'limit' query parameter must be a whole number from 1 to {maxLimit} (was '{limitText}')");
        }

        var after = context.Request.Query["after"].ToString();
        var page = await engine.ListAsync(path, after.Length == 0 ? null : after, limit, cancellationToken).ConfigureAwait(false);
        var entries = new ListingEntry[page.Entries.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var child = page.Entries[i];
            entries[i] = new ListingEntry(child.Name, path.Combine(child.Name).Value, child.IsDirectory, child.Length, child.LastModified, child.ETag);
        }

        return Results.Json(new ListingResponse(path.Value, entries, page.NextToken));
    }

    private static async Task<IResult> DataAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var file = await engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        var response = context.Response;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = file.Status.LastModified.ToString("R", CultureInfo.InvariantCulture);
        switch (ByteRange.Parse(context.Request.Headers.Range, file.Length, out var range, out var error))
        {
            case ByteRange.Outcome.Invalid:
                return HttpProblems.BadRequest(error);
            case ByteRange.Outcome.Unsatisfiable:
                response.Headers.ContentRange = $"bytes */{file.Length}";
                return HttpProblems.Problem(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", $"the Range '{context.Request.Headers.Range}' lies outside '{path}' ({file.Length} bytes)");
            case ByteRange.Outcome.Partial:
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.Start}-{range.Start + range.Length - 1}/{file.Length}");
                break;
            default:
                response.StatusCode = StatusCodes.Status200OK;
                break;
        }

        response.ContentType = "application/octet-stream";
        response.ContentLength = range.Length;
        await CopyRangeAsync(engine, file, range, response, cancellationToken).ConfigureAwait(false);
        return Results.Empty;
    }

    // Reads straight into the response pipe's buffers: pages are copied once, from the page file to the socket buffer.
    private static async Task CopyRangeAsync(StorageEngine engine, OpenedFile file, ByteRange range, HttpResponse response, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        var position = range.Start;
        var end = range.Start + range.Length;
        var chunk = engine.Pages.PageSize;
        while (position < end)
        {
            var want = (int)Math.Min(chunk, end - position);
            var memory = writer.GetMemory(want);
            var read = await engine.ReadAsync(file, position, memory[..Math.Min(want, memory.Length)], cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new UnderStorageException(file.Path.Value, "the file ended before its recorded length", isTransient: true);
            }

            writer.Advance(read);
            position += read;
            var flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                return;
            }
        }
    }

    private static bool TryGetPath(HttpContext context, out DoraPath path, out IResult problem)
    {
        var values = context.Request.Query["path"];
        if (values.Count == 0 || string.IsNullOrEmpty(values[0]))
        {
            path = default;
            problem = HttpProblems.BadRequest("the 'path' query parameter is required (e.g. ?path=/data/file.parquet)");
            return false;
        }

        if (values.Count > 1)
        {
            path = default;
            problem = HttpProblems.BadRequest("the 'path' query parameter is given more than once");
            return false;
        }

        if (!DoraPath.TryParse(values[0], out path, out var reason))
        {
            problem = HttpProblems.Problem(StatusCodes.Status400BadRequest, "Invalid path", $"the 'path' query parameter '{values[0]}' is invalid: {reason}");
            return false;
        }

        problem = Results.Empty;
        return true;
    }
}
