using System.Buffers;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.S3Gateway.Auth;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>
/// PutObject, CopyObject and DeleteObject, through to the under storage: a new version is written beside the old one
/// and becomes the object at once at commit; then every worker drops what it cached of the old version and of the
/// listings that show the key, before the client hears that the write succeeded.
/// </summary>
internal static class ObjectWrites
{
    /// <summary>Largest object one PutObject or CopyObject writes: 5 GiB, as S3 (larger objects: multipart uploads).</summary>
    public const long MaxSingleObjectBytes = 5L << 30;

    public static async Task PutAsync(HttpContext http, S3Resource resource, ObjectSource objects, GatewayMetrics metrics)
    {
        var principal = (S3Principal)http.Items[typeof(S3Principal)]!;
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        if (resource.Key!.EndsWith('/'))
        {
            // A "folder" marker (S3A and consoles make them): directories exist as soon as something is below them, and
            // an empty one is never listed, so the marker is accepted and nothing is stored.
            ReceivedPayload marker = await RequestPayload.CopyAsync(http, principal, 0, static (_, _) => ValueTask.CompletedTask, resource.Name).ConfigureAwait(false);
            http.Response.Headers.ETag = $"\"{marker.Md5Hex}\"";
            return;
        }

        DoraPath path = resource.ObjectPath;
        (IUnderStorage storage, string relative) = objects.StoreOf(path);
        ReceivedPayload payload;
        await using (IUfsWriter writer = await storage.CreateAsync(relative, http.RequestAborted).ConfigureAwait(false))
        {
            payload = await RequestPayload.CopyAsync(http, principal, MaxSingleObjectBytes, writer.WriteAsync, resource.Name).ConfigureAwait(false);
            await writer.CommitAsync(http.RequestAborted).ConfigureAwait(false);
        }

        metrics.BytesReceived(payload.Length);
        await objects.InvalidateAsync(path, resource.BucketPath, CancellationToken.None).ConfigureAwait(false);
        http.Response.Headers.ETag = $"\"{payload.Md5Hex}\"";
    }

    public static async Task CopyAsync(HttpContext http, S3Resource resource, ObjectSource objects, GatewayMetrics metrics)
    {
        S3Resource source = CopySource(http.Request, resource);
        DoraPath from = source.ObjectPath;
        ObjectStatus status = await ObjectReads.StatObjectAsync(objects, from, source, http.RequestAborted).ConfigureAwait(false);
        if (CopyConditions.Check(http.Request, status, source) is { } failed)
        {
            throw S3Exception.PreconditionFailed(failed, source.Name);
        }

        if (status.Length > MaxSingleObjectBytes)
        {
            throw S3Exception.InvalidArgument($"The source is larger than {MaxSingleObjectBytes} bytes; copy it with UploadPartCopy parts.", source.Name);
        }

        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        DoraPath to = resource.ObjectPath;
        (IUnderStorage storage, string relative) = objects.StoreOf(to);
        string md5;
        await using (IUfsWriter writer = await storage.CreateAsync(relative, http.RequestAborted).ConfigureAwait(false))
        {
            md5 = await CopyRangeAsync(objects, from, status, 0, status.Length, writer.WriteAsync, http.RequestAborted).ConfigureAwait(false);
            await writer.CommitAsync(http.RequestAborted).ConfigureAwait(false);
        }

        metrics.BytesReceived(status.Length);
        await objects.InvalidateAsync(to, resource.BucketPath, CancellationToken.None).ConfigureAwait(false);
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "CopyObjectResult", xml =>
        {
            xml.WriteElementString("LastModified", S3Xml.Time(DateTimeOffset.UtcNow));
            xml.WriteElementString("ETag", $"\"{md5}\"");
        }).ConfigureAwait(false);
    }

    /// <summary>Copies <c>[start, start + length)</c> of one version of <paramref name="from"/> to <paramref name="sink"/>; returns the MD5 of the bytes.</summary>
    public static async Task<string> CopyRangeAsync(ObjectSource objects, DoraPath from, ObjectStatus status, long start, long length, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, CancellationToken cancellationToken)
    {
        IObjectReader reader = await objects.OpenAsync(from, status, cancellationToken).ConfigureAwait(false);
        using var md5 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.MD5);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ObjectReads.ChunkBytes);
        try
        {
            for (long position = start, end = start + length; position < end;)
            {
                int read = await reader.ReadAsync(position, buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - position)), cancellationToken).ConfigureAwait(false);
                if (read <= 0)
                {
                    throw new FileChangedException(from.Value, $"it ended at {position} while {end} bytes were to be copied");
                }

                md5.AppendData(buffer, 0, read);
                await sink(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                position += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    /// <summary>The source of a copy: <c>x-amz-copy-source: [/]bucket/key</c>, URL-encoded; versions are not kept.</summary>
    public static S3Resource CopySource(HttpRequest request, S3Resource target)
    {
        string header = Uri.UnescapeDataString(request.Headers["x-amz-copy-source"].ToString());
        if (header.Contains("?versionId=", StringComparison.Ordinal))
        {
            throw S3Exception.NotImplemented("copying a version: Dora keeps only the current version of each object", target.Name);
        }

        S3Resource source = S3Resource.From("/" + header.TrimStart('/'), host: null, domain: null);
        return source.Bucket is null || source.Key is null
            ? throw S3Exception.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey", target.Name)
            : source;
    }

    public static async Task DeleteAsync(HttpContext http, S3Resource resource, ObjectSource objects)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        await DeleteKeyAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// Deletes a key (a missing one is not an error, as in S3), then the directories it leaves empty, up to the bucket:
    /// S3 has no empty prefixes. A directory's key is not an object and is left alone.
    /// </summary>
    public static async Task DeleteKeyAsync(ObjectSource objects, S3Resource resource, CancellationToken cancellationToken)
    {
        DoraPath path = resource.ObjectPath;
        (IUnderStorage storage, string relative) = objects.StoreOf(path);
        try
        {
            UfsFileStatus status = await storage.StatAsync(relative, cancellationToken).ConfigureAwait(false);
            if (status.IsDirectory)
            {
                return;
            }
        }
        catch (DoraFileNotFoundException)
        {
            return;
        }

        await storage.DeleteAsync(relative, cancellationToken).ConfigureAwait(false);
        for (DoraPath parent = path.Parent; parent != resource.BucketPath && !parent.IsRoot; parent = parent.Parent)
        {
            (IUnderStorage parentStorage, string parentRelative) = objects.StoreOf(parent);
            try
            {
                if (parentRelative.Length == 0 || !await parentStorage.DeleteAsync(parentRelative, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
            catch (InvalidPathException)
            {
                // Not empty: nothing above it is empty either.
                break;
            }
        }

        await objects.InvalidateAsync(path, resource.BucketPath, CancellationToken.None).ConfigureAwait(false);
    }
}

/// <summary>The conditions of a copy's source: <c>x-amz-copy-source-if-match</c> and its three siblings.</summary>
internal static class CopyConditions
{
    /// <summary>The name of the condition that fails, or null.</summary>
    public static string? Check(HttpRequest request, ObjectStatus status, S3Resource source)
    {
        string? ifMatch = request.Headers["x-amz-copy-source-if-match"].FirstOrDefault();
        string? ifNoneMatch = request.Headers["x-amz-copy-source-if-none-match"].FirstOrDefault();
        if (ifMatch is not null && ifMatch.Trim() != status.ETag && ifMatch.Trim() != "*")
        {
            return "x-amz-copy-source-if-match";
        }

        if (ifNoneMatch is not null && (ifNoneMatch.Trim() == status.ETag || ifNoneMatch.Trim() == "*"))
        {
            return "x-amz-copy-source-if-none-match";
        }

        DateTimeOffset modified = status.LastModified;
        if (ifMatch is null && Date(request, "x-amz-copy-source-if-unmodified-since") is { } unmodified && modified > unmodified.AddSeconds(1))
        {
            return "x-amz-copy-source-if-unmodified-since";
        }

        return ifNoneMatch is null && Date(request, "x-amz-copy-source-if-modified-since") is { } since && modified <= since.AddSeconds(1)
            ? "x-amz-copy-source-if-modified-since"
            : null;
    }

    private static DateTimeOffset? Date(HttpRequest request, string header) =>
        DateTimeOffset.TryParse(request.Headers[header].FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset date) ? date : null;
}
