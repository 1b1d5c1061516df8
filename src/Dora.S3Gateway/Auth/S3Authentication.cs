using System.Globalization;
using Dora.S3Gateway.Protocol;

namespace Dora.S3Gateway.Auth;

/// <summary>
/// Who sent a request and how its body is to be checked: the access key (null for an anonymous request the gateway
/// allows), and what <c>x-amz-content-sha256</c> promised about the payload.
/// </summary>
/// <param name="AccessKey">The key that signed the request; null when anonymous.</param>
/// <param name="PayloadHash">The payload's SHA-256 in hex, <c>UNSIGNED-PAYLOAD</c>, or a <c>STREAMING-...</c> mode.</param>
/// <param name="SigningKey">The day's signing key, for streaming chunk signatures.</param>
/// <param name="Scope">The credential scope, <c>date/region/s3/aws4_request</c>.</param>
/// <param name="AmzDate">The request's <c>x-amz-date</c>.</param>
/// <param name="Signature">The request's signature, the seed of a chunk-signature chain.</param>
public sealed record S3Principal(string? AccessKey, string PayloadHash, byte[]? SigningKey = null, string? Scope = null, string? AmzDate = null, string? Signature = null)
{
    public static S3Principal Anonymous { get; } = new(null, "UNSIGNED-PAYLOAD");
}

/// <summary>
/// Checks AWS Signature Version 4 as S3 does: in the <c>Authorization</c> header or as a presigned URL's query
/// parameters, the request time within 15 minutes of the gateway's clock (presigned: not expired), the signature over
/// the canonical request in constant time. Anything else is refused with S3's error codes.
/// </summary>
public sealed class S3Authentication(S3KeyPairs? keys, bool allowAnonymous, TimeProvider time)
{
    /// <summary>Most a request's time may differ from the gateway's: 15 minutes, as S3.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);

    /// <summary>Longest validity of a presigned URL: 7 days, as S3.</summary>
    public const int MaxPresignedSeconds = 604_800;

    /// <summary>Authenticates a request given its method, raw path (as sent), raw query (without '?') and headers.</summary>
    /// <exception cref="S3Exception">AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed, AuthorizationHeaderMalformed, ...</exception>
    public S3Principal Authenticate(string method, string rawPath, string rawQuery, Func<string, string?> header)
    {
        string? authorization = header("authorization");
        bool presigned = rawQuery.Contains("X-Amz-Signature=", StringComparison.Ordinal);
        if (authorization is null && !presigned)
        {
            return allowAnonymous ? S3Principal.Anonymous : throw S3Exception.AccessDenied("Access Denied: the request is not signed and anonymous access is off");
        }

        if (authorization is not null && !authorization.StartsWith(SigV4.Algorithm + " ", StringComparison.Ordinal))
        {
            throw new S3Exception(400, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
        }

        return presigned && authorization is null
            ? Presigned(method, rawPath, rawQuery, header)
            : Signed(method, rawPath, rawQuery, authorization!, header);
    }

    private S3Principal Signed(string method, string rawPath, string rawQuery, string authorization, Func<string, string?> header)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in authorization[(SigV4.Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields[part[..equals]] = part[(equals + 1)..];
            }
        }

        if (!fields.TryGetValue("Credential", out string? credential) || !fields.TryGetValue("SignedHeaders", out string? signedHeaders) || !fields.TryGetValue("Signature", out string? signature))
        {
            throw new S3Exception(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.");
        }

        string amzDate = header("x-amz-date") ?? throw new S3Exception(400, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
        DateTimeOffset requestTime = ParseAmzDate(amzDate);
        if ((time.GetUtcNow() - requestTime).Duration() > MaxSkew)
        {
            throw new S3Exception(403, "RequestTimeTooSkewed", $"The difference between the request time ({amzDate}) and the server's time ({time.GetUtcNow().UtcDateTime:yyyyMMdd'T'HHmmss'Z'}) is too large.");
        }

        // SDKs always send the payload hash; generic signers (curl --aws-sigv4) leave it out of bodiless requests and
        // sign the hash of the empty payload, which is what such a request carries.
        bool bodiless = header("content-length") is null or "0" && header("transfer-encoding") is null;
        string payload = header("x-amz-content-sha256")
            ?? (bodiless ? SigV4.EmptySha256 : throw new S3Exception(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"));
        return Verify(method, rawPath, SigV4.CanonicalQuery(rawQuery), credential, signedHeaders, signature, amzDate, payload, header);
    }

    private S3Principal Presigned(string method, string rawPath, string rawQuery, Func<string, string?> header)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(rawQuery);
        string Field(string name) => query.TryGetValue(name, out var value) && value.Count == 1
            ? value[0]!
            : throw new S3Exception(400, "AuthorizationQueryParametersError", $"Query-string authentication requires exactly one {name} parameter.");
        if (Field("X-Amz-Algorithm") != SigV4.Algorithm)
        {
            throw new S3Exception(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        }

        string amzDate = Field("X-Amz-Date");
        DateTimeOffset signedAt = ParseAmzDate(amzDate);
        if (!int.TryParse(Field("X-Amz-Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out int expires) || expires is < 1 or > MaxPresignedSeconds)
        {
            throw new S3Exception(400, "AuthorizationQueryParametersError", $"X-Amz-Expires must be a number of seconds from 1 to {MaxPresignedSeconds}.");
        }

        DateTimeOffset now = time.GetUtcNow();
        if (now > signedAt.AddSeconds(expires))
        {
            throw S3Exception.AccessDenied($"Request has expired (signed at {amzDate} for {expires} s)");
        }

        if (signedAt - now > MaxSkew)
        {
            throw S3Exception.AccessDenied("Request is not valid yet: it was signed in the future");
        }

        return Verify(method, rawPath, SigV4.CanonicalQuery(rawQuery, excluded: "X-Amz-Signature"), Field("X-Amz-Credential"), Field("X-Amz-SignedHeaders"), Field("X-Amz-Signature"), amzDate, "UNSIGNED-PAYLOAD", header);
    }

    private S3Principal Verify(string method, string rawPath, string canonicalQuery, string credential, string signedHeaders, string signature, string amzDate, string payload, Func<string, string?> header)
    {
        // Credential = AKID/yyyymmdd/region/s3/aws4_request
        string[] scope = credential.Split('/');
        if (scope.Length != 5 || scope[3] != "s3" || scope[4] != "aws4_request" || scope[1].Length != 8 || !amzDate.StartsWith(scope[1], StringComparison.Ordinal))
        {
            throw new S3Exception(400, "AuthorizationHeaderMalformed", $"The credential '{string.Join('/', scope.Skip(1))}' is malformed; expecting \"<YYYYMMDD>/<region>/s3/aws4_request\" dated as the request.");
        }

        string accessKey = scope[0];
        string secret = keys?.SecretOf(accessKey)
            ?? throw new S3Exception(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        var canonical = new System.Text.StringBuilder();
        canonical.Append(method).Append('\n').Append(rawPath).Append('\n').Append(canonicalQuery).Append('\n');
        foreach (string name in signedHeaders.Split(';'))
        {
            string value = header(name) ?? throw new S3Exception(403, "SignatureDoesNotMatch", $"The signed header '{name}' is missing from the request.");
            canonical.Append(name).Append(':').Append(SigV4.TrimValue(value)).Append('\n');
        }

        canonical.Append('\n').Append(signedHeaders).Append('\n').Append(payload);
        string credentialScope = string.Join('/', scope.Skip(1));
        string stringToSign = $"{SigV4.Algorithm}\n{amzDate}\n{credentialScope}\n{SigV4.Sha256Hex(canonical.ToString())}";
        byte[] signingKey = SigV4.SigningKey(secret, scope[1], scope[2], "s3");
        if (!SigV4.SameSignature(SigV4.Sign(signingKey, stringToSign), signature))
        {
            throw new S3Exception(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
        }

        return new S3Principal(accessKey, payload, signingKey, credentialScope, amzDate, signature);
    }

    private static DateTimeOffset ParseAmzDate(string value) =>
        DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed)
            ? parsed
            : throw new S3Exception(403, "AccessDenied", $"The request time '{value}' is not in the form yyyyMMddTHHmmssZ.");
}
