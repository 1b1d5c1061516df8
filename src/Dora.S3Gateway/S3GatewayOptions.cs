using Dora.S3Gateway.Auth;

namespace Dora.S3Gateway;

/// <summary>Settings of a worker's S3 gateway. Every default is stated where it is declared.</summary>
public sealed record S3GatewayOptions
{
    /// <summary>The default S3 port: 8814.</summary>
    public const int DefaultPort = 8814;

    /// <summary>TCP port: 8814 by default; 0 picks a free one.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The key pairs requests may be signed with; null accepts none (then only anonymous requests, if allowed).</summary>
    public S3KeyPairs? Keys { get; init; }

    /// <summary>Serve unsigned requests too (off by default; then every request must be signed).</summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>The region the gateway reports (GetBucketLocation, HeadBucket): <c>us-east-1</c> by default. Signatures for any region are accepted.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>When set, <c>bucket.DOMAIN</c> hosts address buckets virtual-host style; path style always works.</summary>
    public string? Domain { get; init; }

    /// <summary>
    /// Where multipart uploads are staged until completed (parts are written there as they arrive); null (the default):
    /// <c>TEMP/dora-s3-uploads/WORKER-ID</c>. The CLI uses <c>CACHE-DIR/s3-uploads</c>.
    /// </summary>
    public string? StagingDirectory { get; init; }

    /// <summary>
    /// Redirect mode: a GET of an object of at least this many bytes that another worker owns is answered with 307 and a
    /// URL presigned for the owner's gateway, so the bytes flow from the owner straight to the client; null (the
    /// default) reads through the owner instead. Only for clients that follow redirects (docs/s3.md).
    /// </summary>
    public long? RedirectMinBytes { get; init; }

    /// <summary>Clock for signature times and presigned expiry (tests replace it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"S3GatewayOptions.Port must be 0 to 65535 (was {Port}).");
        }

        if (Keys is null && !AllowAnonymous)
        {
            throw new ArgumentException("The S3 gateway needs key pairs (--s3-credentials FILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) or explicitly allowed anonymous access (--s3-anonymous).");
        }

        if (string.IsNullOrWhiteSpace(Region) || Region.Length > 64)
        {
            throw new ArgumentException("S3GatewayOptions.Region must be a region name such as us-east-1.");
        }
    }
}
