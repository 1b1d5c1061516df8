using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Dora.Worker.Http;

/// <summary>
/// HTTP conditional requests against a file's version (RFC 9110, section 13): <c>If-Match</c>,
/// <c>If-Unmodified-Since</c>, <c>If-None-Match</c>, <c>If-Modified-Since</c> and <c>If-Range</c>, evaluated in the
/// order the RFC gives. Entity tags are the file's version (strong); dates compare to the second.
/// </summary>
internal static class Preconditions
{
    public enum Outcome
    {
        /// <summary>Serve the request.</summary>
        Proceed,

        /// <summary>304: the client's copy is current (GET and HEAD only).</summary>
        NotModified,

        /// <summary>412: a precondition failed; <c>detail</c> says which.</summary>
        Failed,
    }

    public static Outcome Evaluate(HttpRequest request, string? etag, DateTimeOffset lastModified, out string detail)
    {
        ArgumentNullException.ThrowIfNull(request);
        detail = string.Empty;
        var headers = request.Headers;
        var ifMatch = headers.IfMatch.ToString();
        if (ifMatch.Length > 0)
        {
            if (!Matches(ifMatch, etag, weak: false))
            {
                detail = $"If-Match '{ifMatch}' does not match the file's version {etag ?? "(none)"}";
                return Outcome.Failed;
            }
        }
        else if (TryDate(headers.IfUnmodifiedSince, out var unmodifiedSince) && Seconds(lastModified) > unmodifiedSince)
        {
            detail = $"the file was modified at {lastModified:R}, after If-Unmodified-Since";
            return Outcome.Failed;
        }

        bool readOnly = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        var ifNoneMatch = headers.IfNoneMatch.ToString();
        if (ifNoneMatch.Length > 0)
        {
            if (Matches(ifNoneMatch, etag, weak: true))
            {
                detail = $"If-None-Match '{ifNoneMatch}' matches the file's version {etag}";
                return readOnly ? Outcome.NotModified : Outcome.Failed;
            }
        }
        else if (readOnly && TryDate(headers.IfModifiedSince, out var modifiedSince) && Seconds(lastModified) <= modifiedSince)
        {
            return Outcome.NotModified;
        }

        return Outcome.Proceed;
    }

    /// <summary>
    /// False when an <c>If-Range</c> header names another version (or an older date) than the file's: the whole file is
    /// then sent instead of the range, as RFC 9110 section 13.1.5 asks.
    /// </summary>
    public static bool RangeApplies(HttpRequest request, string? etag, DateTimeOffset lastModified)
    {
        ArgumentNullException.ThrowIfNull(request);
        var ifRange = request.Headers.IfRange.ToString();
        if (ifRange.Length == 0)
        {
            return true;
        }

        if (ifRange.StartsWith('"') || ifRange.StartsWith("W/", StringComparison.Ordinal))
        {
            return etag is not null && ifRange == etag;
        }

        return TryDate(ifRange, out var date) && Seconds(lastModified) == date;
    }

    private static bool Matches(string header, string? etag, bool weak)
    {
        if (header.Trim() == "*")
        {
            return etag is not null;
        }

        if (etag is null || !EntityTagHeaderValue.TryParseList([header], out var tags))
        {
            return false;
        }

        var ours = new EntityTagHeaderValue(etag);
        foreach (var tag in tags)
        {
            if (tag.Compare(ours, useStrongComparison: !weak))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryDate(string? text, out DateTimeOffset date) =>
        DateTimeOffset.TryParseExact(text, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);

    private static DateTimeOffset Seconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
