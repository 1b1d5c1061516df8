using System.Globalization;
using System.Text;
using System.Xml;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>ListBuckets, HeadBucket, GetBucketLocation, ListObjectsV2 and ListObjects (v1).</summary>
internal static class BucketReads
{
    /// <summary>Most keys one listing returns: 1,000, as S3.</summary>
    public const int MaxKeys = 1000;

    /// <summary>Most buckets ListBuckets returns.</summary>
    public const int MaxBuckets = 10_000;

    private const string OwnerId = "dora";

    public static async Task ListBucketsAsync(HttpContext http, ObjectSource objects)
    {
        var buckets = new List<ListEntry>();
        string? after = null;
        do
        {
            (IReadOnlyList<ListEntry> entries, string? next) = await objects.ListAsync(DoraPath.Root, after, BucketReads.MaxKeys, http.RequestAborted).ConfigureAwait(false);
            buckets.AddRange(entries.Where(e => e.IsDirectory));
            after = next;
        }
        while (after is not null && buckets.Count < MaxBuckets);

        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "ListAllMyBucketsResult", xml =>
        {
            WriteOwner(xml);
            xml.WriteStartElement("Buckets");
            foreach (ListEntry bucket in buckets.Take(MaxBuckets))
            {
                xml.WriteStartElement("Bucket");
                xml.WriteElementString("Name", bucket.Name);
                xml.WriteElementString("CreationDate", S3Xml.Time(bucket.LastModified));
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }).ConfigureAwait(false);
    }

    /// <summary>HeadBucket (an empty 200 with the region) and the existence check of every bucket operation.</summary>
    public static async Task EnsureBucketAsync(ObjectSource objects, S3Resource resource, CancellationToken cancellationToken)
    {
        try
        {
            ObjectStatus status = await objects.StatAsync(resource.BucketPath, cancellationToken).ConfigureAwait(false);
            if (status.IsDirectory)
            {
                return;
            }
        }
        catch (Dora.Core.Errors.DoraFileNotFoundException)
        {
        }

        throw S3Exception.NoSuchBucket(resource.Bucket!);
    }

    public static Task LocationAsync(HttpContext http, string region)
    {
        http.Response.ContentType = "application/xml";

        // us-east-1 is written as an empty constraint, as S3 does.
        return S3Xml.WriteAsync(http.Response.Body, "LocationConstraint", xml => xml.WriteString(region == "us-east-1" ? string.Empty : region));
    }

    /// <summary>ListObjectsV2 (<paramref name="v2"/>) or ListObjects: prefix, delimiter, max-keys, paging, url encoding.</summary>
    public static async Task ListObjectsAsync(HttpContext http, S3Resource resource, ObjectSource objects, bool v2)
    {
        IQueryCollection query = http.Request.Query;
        string prefix = query["prefix"].ToString();
        string? delimiter = query.TryGetValue("delimiter", out var d) && d.ToString().Length > 0 ? d.ToString() : null;
        bool urlEncoding = query.TryGetValue("encoding-type", out var encoding) && (encoding == "url"
            ? true
            : throw S3Exception.InvalidArgument("Invalid Encoding Method specified in Request", resource.Name));
        int maxKeys = MaxKeys;
        if (query.TryGetValue("max-keys", out var max) && (!int.TryParse(max.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys) || maxKeys < 0))
        {
            throw S3Exception.InvalidArgument("max-keys must be a non-negative integer", resource.Name);
        }

        maxKeys = Math.Min(maxKeys, MaxKeys);
        string? continuation = v2 ? query["continuation-token"].FirstOrDefault() : null;
        string? startAfter = v2 ? query["start-after"].FirstOrDefault() : query["marker"].FirstOrDefault();
        string? resumeAfter = continuation is not null ? DecodeToken(continuation, resource) : startAfter;
        if (startAfter is not null && resumeAfter is not null && string.CompareOrdinal(startAfter, resumeAfter) > 0)
        {
            resumeAfter = startAfter;
        }

        await EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);

        // The directory that holds the prefix's last segment, and what names in it must start with.
        int lastSlash = prefix.LastIndexOf('/');
        string directoryKey = prefix[..(lastSlash + 1)];
        string namePrefix = prefix[(lastSlash + 1)..];
        var contents = new List<ListedKey>();
        var prefixes = new List<string>();
        string? last = null;
        bool truncated = false;
        if (TryDirectory(resource, directoryKey) is { } directory && maxKeys > 0)
        {
            bool slashOnly = delimiter == "/";
            await foreach (ListedKey item in KeyWalk.KeysAsync(objects, directory, directoryKey, namePrefix, resumeAfter, recurse: !slashOnly, http.RequestAborted).ConfigureAwait(false))
            {
                string key = item.Key;
                if (delimiter is not null && !slashOnly && key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) is int at and >= 0)
                {
                    // Another delimiter: keys that have it past the prefix roll up into one common prefix.
                    key = key[..(at + delimiter.Length)];
                    if (prefixes.Count > 0 && prefixes[^1] == key)
                    {
                        continue;
                    }
                }

                if (contents.Count + prefixes.Count == maxKeys)
                {
                    truncated = true;
                    break;
                }

                if (item.Entry is null || key != item.Key)
                {
                    prefixes.Add(key);
                }
                else
                {
                    contents.Add(item);
                }

                last = key;
            }
        }

        // A common prefix resumes past everything under it.
        string? nextToken = truncated && last is not null ? (last.EndsWith(delimiter ?? "\0", StringComparison.Ordinal) ? last + '\uffff' : last) : null;
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "ListBucketResult", xml =>
        {
            xml.WriteElementString("Name", resource.Bucket);
            xml.WriteElementString("Prefix", Encode(prefix, urlEncoding));
            if (v2)
            {
                xml.WriteElementString("KeyCount", (contents.Count + prefixes.Count).ToString(CultureInfo.InvariantCulture));
                if (continuation is not null)
                {
                    xml.WriteElementString("ContinuationToken", continuation);
                }

                if (nextToken is not null)
                {
                    xml.WriteElementString("NextContinuationToken", EncodeToken(nextToken));
                }

                if (startAfter is not null)
                {
                    xml.WriteElementString("StartAfter", Encode(startAfter, urlEncoding));
                }
            }
            else
            {
                xml.WriteElementString("Marker", Encode(startAfter ?? string.Empty, urlEncoding));
                if (truncated && delimiter is not null && last is not null)
                {
                    xml.WriteElementString("NextMarker", Encode(nextToken!, urlEncoding));
                }
            }

            xml.WriteElementString("MaxKeys", maxKeys.ToString(CultureInfo.InvariantCulture));
            if (delimiter is not null)
            {
                xml.WriteElementString("Delimiter", Encode(delimiter, urlEncoding));
            }

            if (urlEncoding)
            {
                xml.WriteElementString("EncodingType", "url");
            }

            xml.WriteElementString("IsTruncated", truncated ? "true" : "false");
            bool owner = !v2 || query["fetch-owner"] == "true";
            foreach (ListedKey item in contents)
            {
                ListEntry entry = item.Entry!;
                xml.WriteStartElement("Contents");
                xml.WriteElementString("Key", Encode(item.Key, urlEncoding));
                xml.WriteElementString("LastModified", S3Xml.Time(entry.LastModified));
                xml.WriteElementString("ETag", ObjectStatus.Of(false, entry.Length, entry.LastModified, entry.ETag).ETag);
                xml.WriteElementString("Size", entry.Length.ToString(CultureInfo.InvariantCulture));
                if (owner)
                {
                    WriteOwner(xml);
                }

                xml.WriteElementString("StorageClass", "STANDARD");
                xml.WriteEndElement();
            }

            foreach (string commonPrefix in prefixes)
            {
                xml.WriteStartElement("CommonPrefixes");
                xml.WriteElementString("Prefix", Encode(commonPrefix, urlEncoding));
                xml.WriteEndElement();
            }
        }).ConfigureAwait(false);
    }

    /// <summary>The directory a listing starts in; null when the prefix cannot name one (then nothing matches).</summary>
    private static DoraPath? TryDirectory(S3Resource resource, string directoryKey) =>
        directoryKey.Length == 0 ? resource.BucketPath
        : DoraPath.TryParse(resource.BucketPath.Value + "/" + directoryKey.TrimEnd('/'), out DoraPath path, out _) ? path : null;

    private static void WriteOwner(XmlWriter xml)
    {
        xml.WriteStartElement("Owner");
        xml.WriteElementString("ID", OwnerId);
        xml.WriteElementString("DisplayName", OwnerId);
        xml.WriteEndElement();
    }

    private static string Encode(string value, bool url) => url ? Auth.SigV4.UriEncode(value, encodeSlash: false) : value;

    private static string EncodeToken(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

    private static string DecodeToken(string token, S3Resource resource)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException)
        {
            throw S3Exception.InvalidArgument("The continuation token provided is incorrect", resource.Name);
        }
    }
}
