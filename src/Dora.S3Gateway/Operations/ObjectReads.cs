using System.Globalization;
using System.IO.Pipelines;
using Dora.Core.Paths;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>
/// HeadObject and GetObject: S3's headers (ETag, Last-Modified, Content-Length, Accept-Ranges), one byte range, the
/// part number of a single-part object, and the conditional headers with S3's 304/412 rules. Bytes stream from the
/// cache chunk by chunk (read-through on a miss): an object is never buffered whole.
/// </summary>
internal static class ObjectReads
{
    /// <summary>Bytes read and written per step: 256 KiB, so a GET holds at most this much memory while it streams.</summary>
    public const int ChunkBytes = 256 << 10;

    public static async Task HeadOrGetAsync(HttpContext http, S3Resource resource, ObjectSource objects, GatewayMetrics metrics, bool head, Redirects? redirects = null)
    {
        DoraPath path = resource.ObjectPath;
        ObjectStatus status = await StatObjectAsync(objects, path, resource, http.RequestAborted).ConfigureAwait(false);
        HttpResponse response = http.Response;
        if (!head && redirects?.To(http, resource, path, status) is { } location)
        {
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = location;
            return;
        }

        if (Conditions.Check(http.Request, status, resource) is { } notModified)
        {
            response.StatusCode = notModified;
            WriteValidators(response, status);
            return;
        }

        (long start, long length, bool partial) = Ranges.Select(http.Request, status.Length, resource);
        WriteValidators(response, status);
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = "binary/octet-stream";
        response.ContentLength = length;
        if (partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {start}-{start + length - 1}/{status.Length}";
        }

        if (http.Request.Query.ContainsKey("partNumber"))
        {
            response.Headers["x-amz-mp-parts-count"] = "1";
        }

        if (head || length == 0)
        {
            return;
        }

        IObjectReader reader = await objects.OpenAsync(path, status, http.RequestAborted).ConfigureAwait(false);

        // Bytes are read straight into the response pipe's own memory: no copy through a buffer of ours.
        PipeWriter body = response.BodyWriter;
        long position = start;
        long end = start + length;
        while (position < end)
        {
            int want = (int)Math.Min(ChunkBytes, end - position);
            Memory<byte> memory = body.GetMemory(want);
            memory = memory[..Math.Min(memory.Length, want)];
            int read = await reader.ReadAsync(position, memory, http.RequestAborted).ConfigureAwait(false);
            if (read <= 0)
            {
                // The object shrank under the read: the response cannot be completed with the promised length.
                throw new IOException($"'{path}' ended at {position} while {end} bytes were promised");
            }

            body.Advance(read);
            FlushResult flushed = await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
            metrics.BytesSent(read);
            position += read;
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>The object's status; a directory or a missing path is NoSuchKey, as S3 has no such object.</summary>
    public static async Task<ObjectStatus> StatObjectAsync(ObjectSource objects, DoraPath path, S3Resource resource, CancellationToken cancellationToken)
    {
        ObjectStatus status;
        try
        {
            status = await objects.StatAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Dora.Core.Errors.DoraFileNotFoundException)
        {
            throw await MissingAsync(objects, resource, cancellationToken).ConfigureAwait(false);
        }

        return status.IsDirectory ? throw S3Exception.NoSuchKey(resource.Name) : status;
    }

    /// <summary>NoSuchBucket when the bucket itself is missing, else NoSuchKey.</summary>
    public static async Task<S3Exception> MissingAsync(ObjectSource objects, S3Resource resource, CancellationToken cancellationToken)
    {
        try
        {
            ObjectStatus bucket = await objects.StatAsync(resource.BucketPath, cancellationToken).ConfigureAwait(false);
            return bucket.IsDirectory ? S3Exception.NoSuchKey(resource.Name) : S3Exception.NoSuchBucket(resource.Bucket!);
        }
        catch (Dora.Core.Errors.DoraFileNotFoundException)
        {
            return S3Exception.NoSuchBucket(resource.Bucket!);
        }
    }

    private static void WriteValidators(HttpResponse response, ObjectStatus status)
    {
        response.Headers.ETag = status.ETag;
        response.Headers.LastModified = S3Xml.HttpDate(status.LastModified);
    }
}

/// <summary>S3's conditional GET and HEAD (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since).</summary>
internal static class Conditions
{
    /// <summary>304 when the object is not to be sent; null to go on.</summary>
    /// <exception cref="S3Exception">PreconditionFailed (412).</exception>
    public static int? Check(HttpRequest request, ObjectStatus status, S3Resource resource)
    {
        string? ifMatch = request.Headers.IfMatch;
        string? ifNoneMatch = request.Headers.IfNoneMatch;
        DateTimeOffset modified = TruncateToSeconds(status.LastModified);

        // If-Match decides alone when present (then If-Unmodified-Since is not looked at), as S3 does.
        if (ifMatch is not null)
        {
            if (!Matches(ifMatch, status.ETag))
            {
                throw S3Exception.PreconditionFailed("If-Match", resource.Name);
            }
        }
        else if (Date(request.Headers.IfUnmodifiedSince) is { } unmodifiedSince && modified > unmodifiedSince)
        {
            throw S3Exception.PreconditionFailed("If-Unmodified-Since", resource.Name);
        }

        if (ifNoneMatch is not null)
        {
            return Matches(ifNoneMatch, status.ETag) ? StatusCodes.Status304NotModified : null;
        }

        return Date(request.Headers.IfModifiedSince) is { } modifiedSince && modified <= modifiedSince ? StatusCodes.Status304NotModified : null;
    }

    private static bool Matches(string header, string etag)
    {
        foreach (string candidate in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string tag = candidate.StartsWith("W/", StringComparison.Ordinal) ? candidate[2..] : candidate;
            if (tag == "*" || tag == etag || "\"" + tag + "\"" == etag)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An HTTP date; an unparsable one is ignored, as S3 ignores it.</summary>
    private static DateTimeOffset? Date(string? value) =>
        value is not null && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date) ? date : null;

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);
}

/// <summary>One byte range (<c>bytes=a-b</c>, <c>a-</c>, <c>-n</c>) or the part number of a single-part object.</summary>
internal static class Ranges
{
    /// <exception cref="S3Exception">InvalidRange (416) for a range that starts past the end, InvalidPartNumber for a part other than 1.</exception>
    public static (long Start, long Length, bool Partial) Select(HttpRequest request, long objectLength, S3Resource resource)
    {
        if (request.Query.TryGetValue("partNumber", out var part))
        {
            if (!int.TryParse(part.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 10_000)
            {
                throw S3Exception.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive", resource.Name);
            }

            // Every object the gateway serves is a single part: part 1 is all of it.
            return number == 1
                ? (0, objectLength, objectLength > 0)
                : throw new S3Exception(416, "InvalidPartNumber", "The requested partnumber is not satisfiable", resource.Name);
        }

        string? header = request.Headers.Range;
        if (header is null || !header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',', StringComparison.Ordinal))
        {
            // No range, another unit, or several ranges: S3 answers with the whole object.
            return (0, objectLength, false);
        }

        string spec = header["bytes=".Length..].Trim();
        int dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return (0, objectLength, false);
        }

        string first = spec[..dash];
        string last = spec[(dash + 1)..];
        if (first.Length == 0)
        {
            // bytes=-n: the last n bytes.
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out long suffix))
            {
                return (0, objectLength, false);
            }

            if (suffix == 0 || objectLength == 0)
            {
                throw S3Exception.InvalidRange(objectLength, resource.Name);
            }

            long take = Math.Min(suffix, objectLength);
            return (objectLength - take, take, true);
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out long start))
        {
            return (0, objectLength, false);
        }

        long end = objectLength - 1;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start)
            {
                return (0, objectLength, false);
            }

            end = Math.Min(end, objectLength - 1);
        }

        return start >= objectLength ? throw S3Exception.InvalidRange(objectLength, resource.Name) : (start, end - start + 1, true);
    }
}
