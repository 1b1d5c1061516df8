using System.Globalization;
using Dora.Core.Errors;
using Dora.Core.Hashing;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Registry;
using Dora.Worker.Metrics;
using Dora.Worker.Reading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dora.Worker.Http;

/// <summary>
/// The worker's HTTP endpoint: health, file status, listings, byte-range reads, invalidation (the host adds
/// <c>/metrics</c>). Every error is
/// an RFC 7807 problem naming the bad parameter; a cache miss is read through, never an error.
/// </summary>
public static class WorkerHttpApi
{
    /// <summary>Default page of <c>/v1/files</c> when no <c>limit</c> is given.</summary>
    public const int DefaultListingLimit = 1000;

    public static void Map(IEndpointRouteBuilder routes, StorageEngine engine, string workerId, Func<ClusterView?>? cluster = null, ClusterViewOptions? ring = null)
    {
        ArgumentNullException.ThrowIfNull(routes);

        // 200 whether ok or degraded: a degraded worker still serves every read (through the under storage).
        routes.MapGet("/healthz", () => Results.Json(StatusReplies.Health(engine, workerId), ProtocolJson.Default.HealthReply));
        routes.MapGet("/v1/info", (HttpContext context, CancellationToken ct) => GuardAsync(engine, "info", context, () => InfoAsync(engine, context, ct)));
        routes.MapGet("/v1/files", (HttpContext context, CancellationToken ct) => GuardAsync(engine, "files", context, () => ListAsync(engine, context, ct)));
        routes.MapMethods("/v1/data", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, CancellationToken ct) => GuardAsync(engine, "data", context, () => DataAsync(engine, context, ct)));
        routes.MapPost("/v1/invalidate", (HttpContext context, CancellationToken ct) => GuardAsync(engine, "invalidate", context, () => InvalidateAsync(engine, context, ct)));
        routes.MapGet("/v1/workers", (HttpContext context, CancellationToken ct) => GuardAsync(engine, "workers", context, () => Task.FromResult(Workers(cluster?.Invoke(), ring ?? new ClusterViewOptions()))));
        routes.MapPost("/v1/evict", (HttpContext context, CancellationToken ct) => GuardAsync(engine, "evict", context, () => EvictAsync(engine, context, ct)));
    }

    private static async Task<IResult> GuardAsync(StorageEngine engine, string endpoint, HttpContext context, Func<Task<IResult>> handler)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (DoraException e) when (!context.Response.HasStarted)
        {
            return HttpProblems.From(e);
        }
        finally
        {
            engine.Metrics.HttpRequestTook(System.Diagnostics.Stopwatch.GetElapsedTime(started), endpoint);
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

    // A response cannot report an error once its status line is out, so everything that can fail is settled first: the
    // file is opened, a range that needs the under storage is checked against it (a file replaced since its status was
    // cached is served whole from its new version), and the preconditions are evaluated. A read that still fails midway
    // (the file changed in the last instant) aborts the connection: the client sees a short body, never wrong bytes.
    private static async Task<IResult> DataAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var request = context.Request;
        var file = await engine.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        var outcome = ByteRange.Parse(request.Headers.Range, file.Length, out var range, out var error);
        if (outcome is ByteRange.Outcome.Whole or ByteRange.Outcome.Partial)
        {
            var checkedFile = await engine.RevalidateUnlessCachedAsync(file, range.Start, range.Start + range.Length, cancellationToken).ConfigureAwait(false);
            if (!ReferenceEquals(checkedFile, file))
            {
                file = checkedFile;
                outcome = ByteRange.Parse(request.Headers.Range, file.Length, out range, out error);
            }
        }

        var response = context.Response;
        var status = file.Status;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = status.LastModified.ToString("R", CultureInfo.InvariantCulture);
        if (status.ETag is not null)
        {
            response.Headers.ETag = status.ETag;
        }

        switch (Preconditions.Evaluate(request, status.ETag, status.LastModified, out var failed))
        {
            case Preconditions.Outcome.NotModified:
                return Results.StatusCode(StatusCodes.Status304NotModified);
            case Preconditions.Outcome.Failed:
                return HttpProblems.Problem(StatusCodes.Status412PreconditionFailed, "Precondition failed", $"'{path}': {failed}");
        }

        if (outcome == ByteRange.Outcome.Partial && !Preconditions.RangeApplies(request, status.ETag, status.LastModified))
        {
            (outcome, range) = (ByteRange.Outcome.Whole, new ByteRange(0, file.Length));
        }

        switch (outcome)
        {
            case ByteRange.Outcome.Invalid:
                return HttpProblems.BadRequest(error);
            case ByteRange.Outcome.Unsatisfiable:
                response.Headers.ContentRange = $"bytes */{file.Length}";
                return HttpProblems.Problem(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", $"the Range '{request.Headers.Range}' lies outside '{path}' ({file.Length} bytes)");
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
        if (HttpMethods.IsHead(request.Method))
        {
            return Results.Empty;
        }

        try
        {
            await CopyRangeAsync(engine, file, range, response, cancellationToken).ConfigureAwait(false);
        }
        catch (DoraException) when (response.HasStarted)
        {
            context.Abort();
        }

        return Results.Empty;
    }

    private static async Task<IResult> InvalidateAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var recursiveText = context.Request.Query["recursive"].ToString();
        if (recursiveText is not ("" or "true" or "false"))
        {
            return HttpProblems.BadRequest($"the 'recursive' query parameter must be true or false (was '{recursiveText}')");
        }

        var reply = await engine.InvalidateAsync(path, recursiveText == "true", cancellationToken).ConfigureAwait(false);
        return Results.Json(reply, ProtocolJson.Default.InvalidateReply);
    }

    private static async Task<IResult> EvictAsync(StorageEngine engine, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryGetPath(context, out var path, out var problem))
        {
            return problem;
        }

        var reply = await engine.EvictAsync(path, cancellationToken).ConfigureAwait(false);
        return Results.Json(reply, ProtocolJson.Default.EvictReply);
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

    /// <summary>
    /// The membership this worker routes by: <c>{"version","hashPolicy","capacityWeights","workers":[records]}</c>, the
    /// version changing with every change of the membership; clients outside .NET (dorafs) route with it.
    /// </summary>
    private static IResult Workers(ClusterView? cluster, ClusterViewOptions ring)
    {
        if (cluster is null)
        {
            return HttpProblems.Problem(StatusCodes.Status503ServiceUnavailable, "Not registered", "this worker has not joined a cluster yet; ask again shortly");
        }

        Membership membership = cluster.Membership;
        using var stream = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("version", membership.Revision.ToString(CultureInfo.InvariantCulture));
            json.WriteString("hashPolicy", PlacementPolicies.Describe(ring.Policy));
            json.WriteBoolean("capacityWeights", ring.CapacityWeights);
            json.WriteStartArray("workers");
            foreach (WorkerRecord worker in membership.Workers)
            {
                json.WriteStartObject();
                worker.WriteFields(json);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Results.Bytes(stream.ToArray(), "application/json");
    }
}
