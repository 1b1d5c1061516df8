using System.Diagnostics;
using Dora.Core.Errors;
using Dora.S3Gateway.Auth;
using Dora.S3Gateway.Operations;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Dora.S3Gateway;

/// <summary>
/// Every S3 request: authenticate (SigV4 header or presigned URL), find the bucket and key, pick the operation by
/// method and subresource, and turn every failure into S3's XML error document with S3's code and status.
/// </summary>
internal sealed partial class S3Router(S3GatewayOptions options, S3Authentication authentication, ObjectSource objects, GatewayMetrics metrics, MultipartUploads multipart, Redirects redirects, ILogger logger)
{
    /// <summary>Subresources of a bucket or object that the gateway does not serve: NotImplemented, naming them.</summary>
    private static readonly string[] Unsupported =
    [
        "acl", "policy", "policyStatus", "versioning", "versions", "tagging", "lifecycle", "cors", "website", "logging", "notification",
        "replication", "encryption", "object-lock", "legal-hold", "retention", "accelerate", "requestPayment", "inventory", "metrics",
        "analytics", "ownershipControls", "publicAccessBlock", "intelligent-tiering", "torrent", "restore", "select", "attributes",
    ];

    public async Task HandleAsync(HttpContext http)
    {
        long started = Stopwatch.GetTimestamp();
        string requestId = Convert.ToHexString(Guid.NewGuid().ToByteArray(), 0, 8);
        http.Response.Headers["x-amz-request-id"] = requestId;
        http.Response.Headers.Server = "Dora";
        string operation = "Unknown";
        string? errorCode = null;
        S3Resource resource = default;
        try
        {
            string rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.Value ?? "/";
            int question = rawTarget.IndexOf('?', StringComparison.Ordinal);
            string rawPath = question < 0 ? rawTarget : rawTarget[..question];
            string rawQuery = question < 0 ? string.Empty : rawTarget[(question + 1)..];
            resource = S3Resource.From(Uri.UnescapeDataString(rawPath), http.Request.Host.Value, options.Domain);
            operation = Operation(http.Request, resource);
            S3Principal principal = authentication.Authenticate(http.Request.Method, rawPath, rawQuery, name => HeaderValue(http.Request, name));
            http.Items[typeof(S3Principal)] = principal;
            await DispatchAsync(http, resource, operation).ConfigureAwait(false);
        }
        catch (S3Exception error)
        {
            errorCode = error.Code;
            await WriteErrorAsync(http, error, requestId).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            errorCode = "ClientGone";
        }
        catch (Exception e) when (Translate(e, resource) is { } error)
        {
            errorCode = error.Code;
            if (error.Status >= 500)
            {
                Log.RequestFailed(logger, operation, resource.Name, e);
            }

            await WriteErrorAsync(http, error, requestId).ConfigureAwait(false);
        }
        finally
        {
            metrics.Finished(operation, Stopwatch.GetElapsedTime(started), errorCode);
        }
    }

    private Task DispatchAsync(HttpContext http, S3Resource resource, string operation) => operation switch
    {
        "ListBuckets" => BucketReads.ListBucketsAsync(http, objects),
        "HeadBucket" => HeadBucketAsync(http, resource),
        "GetBucketLocation" => LocationAsync(http, resource),
        "ListObjectsV2" => BucketReads.ListObjectsAsync(http, resource, objects, v2: true),
        "ListObjects" => BucketReads.ListObjectsAsync(http, resource, objects, v2: false),
        "GetObject" => ObjectReads.HeadOrGetAsync(http, resource, objects, metrics, head: false, redirects),
        "HeadObject" => ObjectReads.HeadOrGetAsync(http, resource, objects, metrics, head: true),
        "PutObject" => ObjectWrites.PutAsync(http, resource, objects, metrics),
        "CopyObject" => ObjectWrites.CopyAsync(http, resource, objects, metrics),
        "DeleteObject" => ObjectWrites.DeleteAsync(http, resource, objects),
        "DeleteObjects" => DeleteObjects.RunAsync(http, resource, objects),
        "CreateMultipartUpload" => multipart.CreateAsync(http, resource),
        "UploadPart" => multipart.UploadPartAsync(http, resource, copy: false),
        "UploadPartCopy" => multipart.UploadPartAsync(http, resource, copy: true),
        "CompleteMultipartUpload" => multipart.CompleteAsync(http, resource),
        "AbortMultipartUpload" => multipart.AbortAsync(http, resource),
        "ListParts" => multipart.ListPartsAsync(http, resource),
        "ListMultipartUploads" => multipart.ListUploadsAsync(http, resource),
        _ => throw NotServed(http.Request, resource, operation),
    };

    /// <summary>The S3 operation a request asks for, by method, target and subresource.</summary>
    private static string Operation(HttpRequest request, S3Resource resource)
    {
        string method = request.Method;
        IQueryCollection query = request.Query;
        if (resource.Bucket is null)
        {
            return method == "GET" ? "ListBuckets" : "Service" + method;
        }

        if (Unsupported.FirstOrDefault(query.ContainsKey) is { } subresource)
        {
            return $"{method} ?{subresource}";
        }

        if (resource.Key is null)
        {
            return (method, query) switch
            {
                ("HEAD", _) => "HeadBucket",
                ("GET", _) when query.ContainsKey("location") => "GetBucketLocation",
                ("GET", _) when query.ContainsKey("uploads") => "ListMultipartUploads",
                ("GET", _) when query["list-type"] == "2" => "ListObjectsV2",
                ("GET", _) => "ListObjects",
                ("POST", _) when query.ContainsKey("delete") => "DeleteObjects",
                ("PUT", _) => "CreateBucket",
                ("DELETE", _) => "DeleteBucket",
                _ => "Bucket" + method,
            };
        }

        return (method, query) switch
        {
            ("GET", _) when query.ContainsKey("uploadId") => "ListParts",
            ("GET", _) => "GetObject",
            ("HEAD", _) => "HeadObject",
            ("PUT", _) when query.ContainsKey("partNumber") => request.Headers.ContainsKey("x-amz-copy-source") ? "UploadPartCopy" : "UploadPart",
            ("PUT", _) => request.Headers.ContainsKey("x-amz-copy-source") ? "CopyObject" : "PutObject",
            ("POST", _) when query.ContainsKey("uploads") => "CreateMultipartUpload",
            ("POST", _) when query.ContainsKey("uploadId") => "CompleteMultipartUpload",
            ("DELETE", _) when query.ContainsKey("uploadId") => "AbortMultipartUpload",
            ("DELETE", _) => "DeleteObject",
            _ => "Object" + method,
        };
    }

    private static S3Exception NotServed(HttpRequest request, S3Resource resource, string operation) => operation switch
    {
        "CreateBucket" or "DeleteBucket" => S3Exception.NotImplemented($"{operation}: buckets are the top-level directories of the Dora namespace; create or remove them in the under storage", resource.Name),
        _ when operation.StartsWith("Service", StringComparison.Ordinal) || operation.StartsWith("Bucket", StringComparison.Ordinal) || operation.StartsWith("Object", StringComparison.Ordinal)
            => S3Exception.MethodNotAllowed(request.Method, resource.Name),
        _ => S3Exception.NotImplemented(operation, resource.Name),
    };

    private async Task HeadBucketAsync(HttpContext http, S3Resource resource)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        http.Response.Headers["x-amz-bucket-region"] = options.Region;
    }

    private async Task LocationAsync(HttpContext http, S3Resource resource)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        await BucketReads.LocationAsync(http, options.Region).ConfigureAwait(false);
    }

    /// <summary>Dora's own failures in S3's words; null for what must not be hidden (bugs are InternalError, logged).</summary>
    private static S3Exception? Translate(Exception error, S3Resource resource) => error switch
    {
        DoraFileNotFoundException => S3Exception.NoSuchKey(resource.Name),
        InvalidPathException invalid => S3Exception.InvalidArgument(invalid.Message, resource.Name),
        Microsoft.AspNetCore.Http.BadHttpRequestException { StatusCode: 413 } => new S3Exception(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.", resource.Name),
        Microsoft.AspNetCore.Http.BadHttpRequestException bad => new S3Exception(400, "IncompleteBody", $"The request body could not be read: {bad.Message}", resource.Name),
        VersionMismatchException => new S3Exception(409, "OperationAborted", "The object changed while it was being read; retry the request.", resource.Name),
        DoraException { IsTransient: true } transient => S3Exception.ServiceUnavailable($"Please reduce your request rate or retry: {transient.Message}", resource.Name),
        _ => S3Exception.InternalError(resource.Name),
    };

    private static async Task WriteErrorAsync(HttpContext http, S3Exception error, string requestId)
    {
        if (http.Response.HasStarted)
        {
            // Bytes are on their way: the only honest signal left is to cut the connection short of Content-Length.
            http.Abort();
            return;
        }

        http.Response.Clear();
        http.Response.Headers["x-amz-request-id"] = requestId;
        http.Response.StatusCode = error.Status;
        foreach ((string name, string value) in error.Headers ?? new Dictionary<string, string>())
        {
            http.Response.Headers[name] = value;
        }

        if (!HttpMethods.IsHead(http.Request.Method))
        {
            http.Response.ContentType = "application/xml";
            await S3Xml.ErrorAsync(http.Response.Body, error, requestId).ConfigureAwait(false);
        }
    }

    /// <summary>A header's value as SigV4 reads it: several values joined with commas.</summary>
    private static string? HeaderValue(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) ? string.Join(',', values.Select(v => v ?? string.Empty)) : null;

    private static partial class Log
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Error, Message = "S3 {Operation} of {Resource} failed")]
        public static partial void RequestFailed(ILogger logger, string operation, string resource, Exception error);
    }
}
