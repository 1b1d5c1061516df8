using Dora.Core.Paths;
using Dora.Registry;
using Dora.S3Gateway.Auth;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>
/// Redirect mode (<see cref="S3GatewayOptions.RedirectMinBytes"/>): a GET of a large object owned by another worker is
/// sent to the owner's gateway, with a URL presigned by this gateway with the requester's key, instead of being read
/// through the owner here. Conditional and ranged requests keep their headers (clients resend them with the redirect);
/// <c>partNumber</c> and <c>response-*</c> parameters keep their values.
/// </summary>
internal sealed class Redirects(S3GatewayOptions options, ObjectSource objects)
{
    /// <summary>The URL to send the GET to, or null to serve it here.</summary>
    public string? To(HttpContext http, S3Resource resource, DoraPath path, ObjectStatus status)
    {
        if (options.RedirectMinBytes is not { } threshold || status.Length < threshold || objects.RemoteOwner(path) is not { S3Uri: { } owner })
        {
            return null;
        }

        var principal = (S3Principal)http.Items[typeof(S3Principal)]!;
        var kept = http.Request.Query
            .Where(q => !q.Key.StartsWith("X-Amz-", StringComparison.Ordinal))
            .Select(q => new KeyValuePair<string, string>(q.Key, q.Value.ToString()));
        if (principal.AccessKey is null)
        {
            string query = string.Join('&', kept.Select(q => $"{SigV4.UriEncode(q.Key)}={SigV4.UriEncode(q.Value)}"));
            return $"{owner}{resource.Name.Split('/').Select(s => SigV4.UriEncode(s)).Aggregate((a, b) => a + "/" + b)}{(query.Length > 0 ? "?" + query : string.Empty)}";
        }

        string secret = options.Keys!.SecretOf(principal.AccessKey)!;
        return Presigner.GetUrl(owner, resource.Bucket!, resource.Key!, principal.AccessKey, secret, options.Region, options.Time.GetUtcNow(), kept);
    }
}
