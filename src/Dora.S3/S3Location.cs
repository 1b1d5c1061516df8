using System.Text.RegularExpressions;

namespace Dora.S3;

/// <summary>
/// Where an S3 mount's objects live: <c>s3://bucket/prefix?endpoint=http://host:port&amp;region=us-east-1&amp;addressing=path</c>.
/// Without an endpoint it is AWS itself (virtual-host addressing); with one, any S3-compatible server (path-style
/// addressing unless <c>addressing=virtual</c>). <c>profile=NAME</c> takes credentials from that AWS profile.
/// Credentials never appear in the URI.
/// </summary>
public sealed partial record S3Location(string Bucket, string Prefix, Uri? Endpoint, string Region, bool PathStyle, string? Profile)
{
    /// <summary>The location in the form it was given, without anything secret: for logs, errors and mount descriptions.</summary>
    public string Description =>
        $"s3://{Bucket}/{Prefix}" + (Endpoint is null ? string.Empty : $" at {Endpoint.GetLeftPart(UriPartial.Authority)}") + (PathStyle ? " (path-style)" : string.Empty);

    /// <exception cref="FormatException">The URI is not a valid S3 location; the message names what is wrong.</exception>
    public static S3Location Parse(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.Scheme != "s3")
        {
            throw new FormatException($"'{uri}' is not an s3:// URI");
        }

        string bucket = uri.Host;
        if (!BucketName().IsMatch(bucket))
        {
            throw new FormatException($"'{bucket}' is not a valid bucket name (3 to 63 lower-case letters, digits, '.' and '-')");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new FormatException("an s3:// URI must not carry credentials; give them with --s3-access-key/--s3-secret-key, the environment or an AWS profile");
        }

        string prefix = Uri.UnescapeDataString(uri.AbsolutePath).Trim('/');
        Uri? endpoint = null;
        string region = "us-east-1";
        bool? pathStyle = null;
        string? profile = null;
        foreach ((string key, string value) in Query(uri))
        {
            switch (key)
            {
                case "endpoint":
                    endpoint = Uri.TryCreate(value, UriKind.Absolute, out Uri? parsed) && parsed.Scheme is "http" or "https"
                        ? parsed
                        : throw new FormatException($"endpoint '{value}' is not an http:// or https:// URL");
                    break;
                case "region":
                    region = value.Length > 0 ? value : throw new FormatException("region must not be empty");
                    break;
                case "addressing":
                    pathStyle = value switch
                    {
                        "path" => true,
                        "virtual" => false,
                        _ => throw new FormatException($"addressing must be 'path' or 'virtual', not '{value}'"),
                    };
                    break;
                case "profile":
                    profile = value;
                    break;
                default:
                    throw new FormatException($"unknown s3 option '{key}' (known: endpoint, region, addressing, profile)");
            }
        }

        return new S3Location(bucket, prefix.Length == 0 ? string.Empty : prefix + "/", endpoint, region, pathStyle ?? endpoint is not null, profile);
    }

    private static IEnumerable<(string Key, string Value)> Query(Uri uri)
    {
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            yield return equals < 0
                ? (Uri.UnescapeDataString(pair), string.Empty)
                : (Uri.UnescapeDataString(pair[..equals]), Uri.UnescapeDataString(pair[(equals + 1)..]));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();
}
