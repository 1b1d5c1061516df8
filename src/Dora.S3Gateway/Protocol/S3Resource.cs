using Dora.Core.Paths;

namespace Dora.S3Gateway.Protocol;

/// <summary>
/// What a request addresses: a bucket (a top-level directory of the Dora namespace) and a key (the path below it), or
/// neither (the service: ListBuckets). Path style (<c>/bucket/key</c>) always; virtual-host style
/// (<c>bucket.DOMAIN/key</c>) when the gateway has a domain.
/// </summary>
internal readonly record struct S3Resource(string? Bucket, string? Key)
{
    /// <summary>Parses the decoded request path and Host header.</summary>
    public static S3Resource From(string decodedPath, string? host, string? domain)
    {
        string path = decodedPath.StartsWith('/') ? decodedPath[1..] : decodedPath;
        if (domain is not null && host is not null)
        {
            string name = host.Split(':')[0];
            if (name.Length > domain.Length + 1 && name.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase))
            {
                return new S3Resource(name[..^(domain.Length + 1)], path.Length == 0 ? null : path);
            }
        }

        if (path.Length == 0)
        {
            return new S3Resource(null, null);
        }

        int slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 || slash == path.Length - 1
            ? new S3Resource(slash < 0 ? path : path[..slash], null)
            : new S3Resource(path[..slash], path[(slash + 1)..]);
    }

    /// <summary>How S3 names the resource in error documents: <c>/bucket/key</c>.</summary>
    public string Name => Bucket is null ? "/" : Key is null ? "/" + Bucket : $"/{Bucket}/{Key}";

    /// <summary>The bucket's directory.</summary>
    /// <exception cref="S3Exception">InvalidBucketName when the bucket is not a valid Dora directory name.</exception>
    public DoraPath BucketPath => DoraPath.TryParse("/" + Bucket, out DoraPath path, out string reason) && path.Parent.IsRoot
        ? path
        : throw new S3Exception(400, "InvalidBucketName", $"The specified bucket is not valid: {reason}", Name);

    /// <summary>The object's path: the bucket's directory, then the key's segments.</summary>
    /// <exception cref="S3Exception">InvalidArgument when the key is not a valid Dora path (empty segments, '.', '..').</exception>
    public DoraPath ObjectPath
    {
        get
        {
            string key = Key!.EndsWith('/') ? Key[..^1] : Key;
            return DoraPath.TryParse(BucketPath.Value + "/" + key, out DoraPath path, out string reason)
                ? path
                : throw S3Exception.InvalidArgument($"The key cannot name a Dora path: {reason}", Name);
        }
    }
}
