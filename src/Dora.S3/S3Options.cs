namespace Dora.S3;

/// <summary>
/// How Dora talks to S3: credentials (when not given, the AWS SDK's usual chain: environment variables, the shared
/// credentials and config files, instance roles) and limits.
/// </summary>
public sealed record S3Options
{
    public string? AccessKey { get; init; }

    /// <summary>Never logged, never part of a description.</summary>
    public string? SecretKey { get; init; }

    public string? SessionToken { get; init; }

    /// <summary>Requests in flight to one store at once; more wait.</summary>
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>Retries of a throttled or failed (5xx, connection) request, with exponential backoff.</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>How long one request may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The object listing page size asked of the server (S3 answers at most 1,000).</summary>
    public int ListPageSize { get; init; } = 1000;

    /// <summary>Both keys or neither; printed as <c>S3Options { AccessKey = AKIA..., SecretKey = *** }</c>.</summary>
    public void Validate()
    {
        if ((AccessKey is null) != (SecretKey is null))
        {
            throw new ArgumentException("Give both the S3 access key and the secret key, or neither (then the environment or AWS profile is used).");
        }

        if (MaxConcurrentRequests < 1 || MaxRetries < 0 || RequestTimeout <= TimeSpan.Zero || ListPageSize is < 1 or > 1000)
        {
            throw new ArgumentException("S3 limits must be positive (listing pages 1 to 1000).");
        }
    }

    public override string ToString() => $"S3Options {{ AccessKey = {AccessKey ?? "(default chain)"}, SecretKey = {(SecretKey is null ? "(default chain)" : "***")} }}";
}
