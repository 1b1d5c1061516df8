using System.Globalization;

namespace Dora.S3Gateway.Auth;

/// <summary>
/// Presigned GET URLs the gateway makes itself (redirect mode): signed with the requester's own key pair, valid for a
/// minute, for the host of the worker the request is sent on to, so the owner accepts it as any presigned URL.
/// </summary>
internal static class Presigner
{
    /// <summary>How long a redirect URL stays valid: 60 s (it is followed at once).</summary>
    public const int ValiditySeconds = 60;

    /// <summary>
    /// A presigned GET of <paramref name="bucket"/>/<paramref name="key"/> at <paramref name="baseUrl"/>
    /// (<c>http://host:port</c>), keeping <paramref name="extraQuery"/> (decoded name/value pairs such as
    /// <c>partNumber</c>) in the signed query.
    /// </summary>
    public static string GetUrl(string baseUrl, string bucket, string key, string accessKey, string secret, string region, DateTimeOffset now, IEnumerable<KeyValuePair<string, string>> extraQuery)
    {
        var uri = new Uri(baseUrl);
        string host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        string path = "/" + SigV4.UriEncode(bucket) + "/" + SigV4.UriEncode(key, encodeSlash: false);
        string date = now.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        string amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string scope = $"{date}/{region}/s3/aws4_request";
        var query = new List<KeyValuePair<string, string>>(extraQuery)
        {
            new("X-Amz-Algorithm", SigV4.Algorithm),
            new("X-Amz-Credential", $"{accessKey}/{scope}"),
            new("X-Amz-Date", amzDate),
            new("X-Amz-Expires", ValiditySeconds.ToString(CultureInfo.InvariantCulture)),
            new("X-Amz-SignedHeaders", "host"),
        };
        string rawQuery = string.Join('&', query.Select(p => $"{SigV4.UriEncode(p.Key)}={SigV4.UriEncode(p.Value)}"));
        string canonical = $"GET\n{path}\n{SigV4.CanonicalQuery(rawQuery)}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD";
        string signature = SigV4.Sign(SigV4.SigningKey(secret, date, region, "s3"), $"{SigV4.Algorithm}\n{amzDate}\n{scope}\n{SigV4.Sha256Hex(canonical)}");
        return $"{uri.Scheme}://{host}{path}?{rawQuery}&X-Amz-Signature={signature}";
    }
}
