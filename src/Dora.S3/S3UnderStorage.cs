using System.Net;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.Core.Errors;
using Dora.Core.UnderStorage;

namespace Dora.S3;

/// <summary>
/// An S3 bucket (or a prefix of one) as an under storage, over AWSSDK.S3 against AWS or any S3-compatible server.
/// Positioned reads are ranged GETs conditioned on the cached ETag (If-Match), so bytes of another version of an object
/// are never returned under the old fingerprint; stat is HEAD (length, Last-Modified, ETag); listings are
/// ListObjectsV2 pages with "/" as the delimiter, common prefixes being directories. Requests in flight are bounded,
/// and throttling, 5xx answers and broken connections are retried with backoff by the SDK's standard retry mode.
/// </summary>
public sealed class S3UnderStorage : IUnderStorage
{
    private readonly AmazonS3Client _client;
    private readonly S3Location _location;
    private readonly SemaphoreSlim _requests;
    private readonly int _listPageSize;

    public S3UnderStorage(S3Location location, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _location = location;
        _requests = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        _listPageSize = options.ListPageSize;
        var config = new AmazonS3Config
        {
            ForcePathStyle = location.PathStyle,
            MaxErrorRetry = options.MaxRetries,
            RetryMode = RequestRetryMode.Standard,
            Timeout = options.RequestTimeout,
            AuthenticationRegion = location.Region,

            // Checksums the SDK would add or check on whole-object requests are left to the server's own rules, which
            // every S3-compatible store understands.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (location.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(location.Region);
        }

        AWSCredentials? credentials = Credentials(location, options);
        _client = credentials is null ? new AmazonS3Client(config) : new AmazonS3Client(credentials, config);
    }

    public string Description => _location.Description;

    private static AWSCredentials? Credentials(S3Location location, S3Options options)
    {
        if (options.AccessKey is { } access)
        {
            return options.SessionToken is { } token
                ? new SessionAWSCredentials(access, options.SecretKey, token)
                : new BasicAWSCredentials(access, options.SecretKey);
        }

        if (location.Profile is { } profile)
        {
            return new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out AWSCredentials found)
                ? found
                : throw new ArgumentException($"AWS profile '{profile}' was not found in the shared credentials or config files.");
        }

        // The SDK's default chain: environment variables, shared files, instance roles.
        return null;
    }

    private string KeyOf(string relativePath) => _location.Prefix + relativePath;

    private static string DoraPathOf(string relativePath) => "/" + relativePath;

    public async ValueTask<UfsFileStatus> StatAsync(string relativePath, CancellationToken cancellationToken)
    {
        if (relativePath.Length == 0)
        {
            await EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
            return new UfsFileStatus(string.Empty, IsDirectory: true, 0, DateTimeOffset.UnixEpoch, null);
        }

        string name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        try
        {
            GetObjectMetadataResponse head = await CallAsync(relativePath, token => _client.GetObjectMetadataAsync(_location.Bucket, KeyOf(relativePath), token), cancellationToken).ConfigureAwait(false);
            return new UfsFileStatus(name, IsDirectory: false, head.ContentLength, LastModifiedOf(head.LastModified), head.ETag);
        }
        catch (DoraFileNotFoundException)
        {
            // No object: a directory when some key lies below it.
            ListObjectsV2Response below = await CallAsync(relativePath, token => _client.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = _location.Bucket, Prefix = KeyOf(relativePath) + "/", MaxKeys = 1 }, token), cancellationToken).ConfigureAwait(false);
            return (below.KeyCount ?? 0) > 0
                ? new UfsFileStatus(name, IsDirectory: true, 0, DateTimeOffset.UnixEpoch, null)
                : throw new DoraFileNotFoundException(DoraPathOf(relativePath));
        }
    }

    public async ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        long end = Math.Min(offset + buffer.Length, expected.Length);
        if (offset >= end)
        {
            return 0;
        }

        var request = new GetObjectRequest
        {
            BucketName = _location.Bucket,
            Key = KeyOf(relativePath),
            ByteRange = new ByteRange(offset, end - 1),
            EtagToMatch = expected.ETag,
        };
        try
        {
            return await CallAsync(relativePath, async token =>
            {
                using GetObjectResponse response = await _client.GetObjectAsync(request, token).ConfigureAwait(false);
                if (expected.ETag is not null && response.ETag != expected.ETag)
                {
                    throw Changed(relativePath);
                }

                int total = 0;
                int wanted = (int)(end - offset);
                await using Stream body = response.ResponseStream;
                while (total < wanted)
                {
                    int read = await body.ReadAsync(buffer[total..wanted], token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                return total < wanted
                    ? throw new FileChangedException(DoraPathOf(relativePath), $"the object ended after {offset + total} bytes, but its status says {expected.Length}")
                    : total;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (UnderStorageException e) when (e.InnerException is AmazonS3Exception { StatusCode: HttpStatusCode.PreconditionFailed })
        {
            throw Changed(relativePath);
        }
    }

    private static FileChangedException Changed(string relativePath) =>
        new(DoraPathOf(relativePath), "its ETag is no longer the one its status had");

    public async ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken)
    {
        string directory = relativePath.Length == 0 ? _location.Prefix : KeyOf(relativePath) + "/";
        var request = new ListObjectsV2Request
        {
            BucketName = _location.Bucket,
            Prefix = directory,
            Delimiter = "/",
            MaxKeys = Math.Min(limit, _listPageSize),
        };
        if (after is not null)
        {
            // The token is the last name returned, with "/" for a directory: skip everything below that directory too,
            // by starting after the greatest character (U+10FFFF, still valid in the XML the server echoes it in).
            request.StartAfter = directory + (after.EndsWith('/') ? after + "\U0010FFFF" : after);
        }

        ListObjectsV2Response response = await CallAsync(relativePath, token => _client.ListObjectsV2Async(request, token), cancellationToken).ConfigureAwait(false);
        var children = new List<(string Token, UfsFileStatus Status)>();
        foreach (string prefix in response.CommonPrefixes ?? [])
        {
            string name = prefix[directory.Length..].TrimEnd('/');
            if (name.Length > 0)
            {
                children.Add((name + "/", new UfsFileStatus(name, IsDirectory: true, 0, DateTimeOffset.UnixEpoch, null)));
            }
        }

        foreach (S3Object entry in response.S3Objects ?? [])
        {
            string name = entry.Key[directory.Length..];
            if (name.Length > 0 && !name.Contains('/', StringComparison.Ordinal))
            {
                children.Add((name, new UfsFileStatus(name, IsDirectory: false, entry.Size ?? 0, LastModifiedOf(entry.LastModified), entry.ETag)));
            }
        }

        // S3 returns keys in byte order; directories sort by their "name/" key among the files.
        children.Sort((a, b) => string.CompareOrdinal(a.Token, b.Token));
        if (after is null && children.Count == 0 && relativePath.Length > 0 && (response.KeyCount ?? 0) == 0)
        {
            throw new DoraFileNotFoundException(DoraPathOf(relativePath));
        }

        // Some servers count common prefixes apart from keys and return more than asked: keep the first `limit`.
        bool more = response.IsTruncated == true || children.Count > limit;
        if (children.Count > limit)
        {
            children.RemoveRange(limit, children.Count - limit);
        }

        string? next = more && children.Count > 0 ? children[^1].Token : null;
        return new UfsListingPage([.. children.Select(c => c.Status)], next);
    }

    public ValueTask<IUfsWriter> CreateAsync(string relativePath, CancellationToken cancellationToken)
    {
        if (relativePath.Length == 0)
        {
            throw new InvalidPathException("/", "the root is a directory");
        }

        Task Call(Func<CancellationToken, Task> request, CancellationToken token) =>
            CallAsync(relativePath, async t => { await request(t).ConfigureAwait(false); return true; }, token);
        return ValueTask.FromResult<IUfsWriter>(new S3UfsWriter(_client, _location.Bucket, KeyOf(relativePath), Call, token => StatAsync(relativePath, token)));
    }

    public async ValueTask<bool> DeleteAsync(string relativePath, CancellationToken cancellationToken)
    {
        if (relativePath.Length == 0)
        {
            throw new InvalidPathException("/", "the root of a mount is not deleted");
        }

        UfsFileStatus status;
        try
        {
            status = await StatAsync(relativePath, cancellationToken).ConfigureAwait(false);
        }
        catch (DoraFileNotFoundException)
        {
            return false;
        }

        if (status.IsDirectory)
        {
            // A prefix exists only while keys lie below it: it is never empty, and there is nothing else to remove.
            throw new InvalidPathException(DoraPathOf(relativePath), "the directory is not empty");
        }

        await CallAsync(relativePath, token => _client.DeleteObjectAsync(_location.Bucket, KeyOf(relativePath), token), cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task EnsureBucketAsync(CancellationToken cancellationToken) =>
        await CallAsync(string.Empty, token => _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _location.Bucket, Prefix = _location.Prefix, MaxKeys = 1 }, token), cancellationToken).ConfigureAwait(false);

    private static DateTimeOffset LastModifiedOf(DateTime? value) =>
        value is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time.ToUniversalTime(), DateTimeKind.Utc)) : DateTimeOffset.UnixEpoch;

    /// <summary>Runs one request within the concurrency bound and turns SDK failures into Dora's errors.</summary>
    private async Task<T> CallAsync<T>(string relativePath, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        await _requests.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await call(cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode == "NoSuchBucket")
        {
            throw new UnderStorageException(DoraPathOf(relativePath), $"the bucket '{_location.Bucket}' does not exist at {Description}", isTransient: false, e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new DoraFileNotFoundException(DoraPathOf(relativePath));
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            throw new UnderStorageException(DoraPathOf(relativePath), $"access denied by {Description} ({e.ErrorCode}): check the credentials and the bucket policy", isTransient: false, e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw new UnderStorageException(DoraPathOf(relativePath), "the object changed", isTransient: true, e);
        }
        catch (AmazonS3Exception e)
        {
            bool transient = (int)e.StatusCode >= 500 || e.StatusCode == HttpStatusCode.TooManyRequests || e.ErrorCode is "SlowDown" or "RequestTimeout";
            throw new UnderStorageException(DoraPathOf(relativePath), $"{Description} answered {(int)e.StatusCode} {e.ErrorCode}: {e.Message}", transient, e);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new UnderStorageException(DoraPathOf(relativePath), $"{Description} could not be reached: {e.Message}", isTransient: true, e);
        }
        finally
        {
            _requests.Release();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _requests.Dispose();
    }
}
