using System.Globalization;
using System.Security.Cryptography;
using System.Xml;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.S3Gateway.Auth;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>
/// Multipart uploads: parts are staged on the worker that created the upload (<see cref="UploadStaging"/>), and
/// CompleteMultipartUpload writes them, in order, as one new version of the object in the under storage, which becomes
/// visible whole at commit. An upload's parts and its completion go to the gateway that created it.
/// </summary>
internal sealed class MultipartUploads(UploadStaging staging, ObjectSource objects, GatewayMetrics metrics, TimeProvider time)
{
    /// <summary>Part numbers run from 1 to 10,000, as S3.</summary>
    public const int MaxPartNumber = 10_000;

    /// <summary>Every part but the last must hold at least 5 MiB, as S3.</summary>
    public const long MinPartBytes = 5L << 20;

    /// <summary>Largest part: 5 GiB, as S3.</summary>
    public const long MaxPartBytes = 5L << 30;

    public async Task CreateAsync(HttpContext http, S3Resource resource)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        _ = resource.ObjectPath;
        string id = staging.Create(resource.Bucket!, resource.Key!);
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "InitiateMultipartUploadResult", xml =>
        {
            xml.WriteElementString("Bucket", resource.Bucket);
            xml.WriteElementString("Key", resource.Key);
            xml.WriteElementString("UploadId", id);
        }).ConfigureAwait(false);
    }

    public async Task UploadPartAsync(HttpContext http, S3Resource resource, bool copy)
    {
        string? id = http.Request.Query["uploadId"];
        staging.Find(id, resource.Bucket!, resource.Key!);
        int number = PartNumber(http.Request, resource);
        string temporary = staging.TemporaryPartFile(id!, number);
        try
        {
            StagedPart part;
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous))
            {
                if (copy)
                {
                    part = await CopyPartAsync(http, resource, number, file).ConfigureAwait(false);
                }
                else
                {
                    var principal = (S3Principal)http.Items[typeof(S3Principal)]!;
                    ReceivedPayload payload = await RequestPayload.CopyAsync(http, principal, MaxPartBytes, file.WriteAsync, resource.Name).ConfigureAwait(false);
                    part = new StagedPart(number, payload.Length, payload.Md5Hex, time.GetUtcNow());
                    metrics.BytesReceived(payload.Length);
                }

                file.Flush(flushToDisk: true);
            }

            staging.AddPart(id!, part, temporary);
            if (copy)
            {
                http.Response.ContentType = "application/xml";
                await S3Xml.WriteAsync(http.Response.Body, "CopyPartResult", xml =>
                {
                    xml.WriteElementString("LastModified", S3Xml.Time(part.LastModified));
                    xml.WriteElementString("ETag", $"\"{part.Md5Hex}\"");
                }).ConfigureAwait(false);
            }
            else
            {
                http.Response.Headers.ETag = $"\"{part.Md5Hex}\"";
            }
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>UploadPartCopy: the part is a range (<c>x-amz-copy-source-range</c>) or all of another object.</summary>
    private async Task<StagedPart> CopyPartAsync(HttpContext http, S3Resource resource, int number, FileStream file)
    {
        S3Resource source = ObjectWrites.CopySource(http.Request, resource);
        DoraPath from = source.ObjectPath;
        ObjectStatus status = await ObjectReads.StatObjectAsync(objects, from, source, http.RequestAborted).ConfigureAwait(false);
        if (CopyConditions.Check(http.Request, status, source) is { } failed)
        {
            throw S3Exception.PreconditionFailed(failed, source.Name);
        }

        (long start, long length) = (0, status.Length);
        if (http.Request.Headers["x-amz-copy-source-range"].FirstOrDefault() is { } range)
        {
            string[] bounds = range.StartsWith("bytes=", StringComparison.Ordinal) ? range[6..].Split('-') : [];
            if (bounds.Length != 2 || !long.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out start)
                || !long.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out long last) || last < start || last >= status.Length)
            {
                throw S3Exception.InvalidArgument($"The x-amz-copy-source-range '{range}' is not bytes=first-last within the {status.Length}-byte source.", resource.Name);
            }

            length = last - start + 1;
        }

        if (length > MaxPartBytes)
        {
            throw new S3Exception(400, "EntityTooLarge", $"A part may hold at most {MaxPartBytes} bytes.", resource.Name);
        }

        string md5 = await ObjectWrites.CopyRangeAsync(objects, from, status, start, length, file.WriteAsync, http.RequestAborted).ConfigureAwait(false);
        return new StagedPart(number, length, md5, time.GetUtcNow());
    }

    public async Task CompleteAsync(HttpContext http, S3Resource resource)
    {
        string? id = http.Request.Query["uploadId"];
        staging.Find(id, resource.Bucket!, resource.Key!);
        List<(int Number, string ETag)> requested = await ParseCompletionAsync(http.Request.Body, resource).ConfigureAwait(false);
        Dictionary<int, StagedPart> staged = staging.Parts(id!).ToDictionary(p => p.Number);
        for (int i = 0; i < requested.Count; i++)
        {
            (int number, string presented) = requested[i];
            if (i > 0 && number <= requested[i - 1].Number)
            {
                throw new S3Exception(400, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.", resource.Name);
            }

            if (!staged.TryGetValue(number, out StagedPart? part) || presented.Trim('"') != part.Md5Hex)
            {
                throw new S3Exception(400, "InvalidPart", $"Part {number} was not uploaded, or its ETag does not match the one given.", resource.Name);
            }

            if (i < requested.Count - 1 && part.Size < MinPartBytes)
            {
                throw new S3Exception(400, "EntityTooSmall", $"Part {number} holds {part.Size} bytes; every part but the last must hold at least {MinPartBytes}.", resource.Name);
            }
        }

        DoraPath path = resource.ObjectPath;
        (IUnderStorage storage, string relative) = objects.StoreOf(path);
        using var etags = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long total = 0;
        await using (IUfsWriter writer = await storage.CreateAsync(relative, http.RequestAborted).ConfigureAwait(false))
        {
            byte[] buffer = new byte[ObjectReads.ChunkBytes];
            foreach ((int number, string _) in requested)
            {
                etags.AppendData(Convert.FromHexString(staged[number].Md5Hex));
                await using var part = new FileStream(staging.PartFile(id!, number), FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
                for (int read; (read = await part.ReadAsync(buffer, http.RequestAborted).ConfigureAwait(false)) > 0;)
                {
                    await writer.WriteAsync(buffer.AsMemory(0, read), http.RequestAborted).ConfigureAwait(false);
                    total += read;
                }
            }

            await writer.CommitAsync(http.RequestAborted).ConfigureAwait(false);
        }

        staging.Remove(id!);
        await objects.InvalidateAsync(path, resource.BucketPath, CancellationToken.None).ConfigureAwait(false);
        string etag = $"\"{Convert.ToHexStringLower(etags.GetHashAndReset())}-{requested.Count}\"";
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "CompleteMultipartUploadResult", xml =>
        {
            xml.WriteElementString("Location", $"{http.Request.Scheme}://{http.Request.Host}{resource.Name}");
            xml.WriteElementString("Bucket", resource.Bucket);
            xml.WriteElementString("Key", resource.Key);
            xml.WriteElementString("ETag", etag);
        }).ConfigureAwait(false);
    }

    public Task AbortAsync(HttpContext http, S3Resource resource)
    {
        string? id = http.Request.Query["uploadId"];
        staging.Find(id, resource.Bucket!, resource.Key!);
        staging.Remove(id!);
        http.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    public async Task ListPartsAsync(HttpContext http, S3Resource resource)
    {
        string? id = http.Request.Query["uploadId"];
        StagedUpload upload = staging.Find(id, resource.Bucket!, resource.Key!);
        int maxParts = QueryInt(http.Request, "max-parts", 1000, resource);
        int marker = QueryInt(http.Request, "part-number-marker", 0, resource);
        List<StagedPart> parts = staging.Parts(id!).Where(p => p.Number > marker).ToList();
        bool truncated = parts.Count > maxParts;
        parts = parts.Take(maxParts).ToList();
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "ListPartsResult", xml =>
        {
            xml.WriteElementString("Bucket", upload.Bucket);
            xml.WriteElementString("Key", upload.Key);
            xml.WriteElementString("UploadId", id);
            xml.WriteElementString("PartNumberMarker", marker.ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("NextPartNumberMarker", (parts.Count > 0 ? parts[^1].Number : marker).ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("MaxParts", maxParts.ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("IsTruncated", truncated ? "true" : "false");
            foreach (StagedPart part in parts)
            {
                xml.WriteStartElement("Part");
                xml.WriteElementString("PartNumber", part.Number.ToString(CultureInfo.InvariantCulture));
                xml.WriteElementString("LastModified", S3Xml.Time(part.LastModified));
                xml.WriteElementString("ETag", $"\"{part.Md5Hex}\"");
                xml.WriteElementString("Size", part.Size.ToString(CultureInfo.InvariantCulture));
                xml.WriteEndElement();
            }
        }).ConfigureAwait(false);
    }

    public async Task ListUploadsAsync(HttpContext http, S3Resource resource)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        string prefix = http.Request.Query["prefix"].ToString();
        string keyMarker = http.Request.Query["key-marker"].ToString();
        int maxUploads = QueryInt(http.Request, "max-uploads", 1000, resource);
        var uploads = staging.All()
            .Where(u => u.Upload.Bucket == resource.Bucket && u.Upload.Key.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(u.Upload.Key, keyMarker) > 0)
            .OrderBy(u => u.Upload.Key, StringComparer.Ordinal).ThenBy(u => u.Id, StringComparer.Ordinal).ToList();
        bool truncated = uploads.Count > maxUploads;
        uploads = uploads.Take(maxUploads).ToList();
        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "ListMultipartUploadsResult", xml =>
        {
            xml.WriteElementString("Bucket", resource.Bucket);
            xml.WriteElementString("KeyMarker", keyMarker);
            xml.WriteElementString("UploadIdMarker", string.Empty);
            xml.WriteElementString("NextKeyMarker", uploads.Count > 0 ? uploads[^1].Upload.Key : string.Empty);
            xml.WriteElementString("NextUploadIdMarker", uploads.Count > 0 ? uploads[^1].Id : string.Empty);
            xml.WriteElementString("Prefix", prefix);
            xml.WriteElementString("MaxUploads", maxUploads.ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("IsTruncated", truncated ? "true" : "false");
            foreach ((string id, StagedUpload upload) in uploads)
            {
                xml.WriteStartElement("Upload");
                xml.WriteElementString("Key", upload.Key);
                xml.WriteElementString("UploadId", id);
                xml.WriteElementString("StorageClass", "STANDARD");
                xml.WriteElementString("Initiated", S3Xml.Time(upload.Initiated));
                xml.WriteEndElement();
            }
        }).ConfigureAwait(false);
    }

    private static int PartNumber(HttpRequest request, S3Resource resource) =>
        int.TryParse(request.Query["partNumber"], NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number is >= 1 and <= MaxPartNumber
            ? number
            : throw S3Exception.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive", resource.Name);

    private static int QueryInt(HttpRequest request, string name, int fallback, S3Resource resource)
    {
        if (!request.Query.TryGetValue(name, out var value))
        {
            return fallback;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? Math.Min(number, 1000) : throw S3Exception.InvalidArgument($"{name} must be a non-negative integer", resource.Name);
    }

    /// <summary>The parts a CompleteMultipartUpload body lists, in its order.</summary>
    /// <exception cref="S3Exception">MalformedXML.</exception>
    internal static async Task<List<(int Number, string ETag)>> ParseCompletionAsync(Stream body, S3Resource resource)
    {
        var parts = new List<(int, string)>();
        var settings = new XmlReaderSettings { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true };
        try
        {
            using XmlReader xml = XmlReader.Create(body, settings);
            int? number = null;
            string? etag = null;
            await xml.ReadAsync().ConfigureAwait(false);
            while (!xml.EOF)
            {
                // Reading an element's content moves past it: only other nodes need the next read.
                if (xml.NodeType == XmlNodeType.Element && xml.LocalName == "PartNumber")
                {
                    number = int.Parse(await xml.ReadElementContentAsStringAsync().ConfigureAwait(false), CultureInfo.InvariantCulture);
                    continue;
                }

                if (xml.NodeType == XmlNodeType.Element && xml.LocalName == "ETag")
                {
                    etag = await xml.ReadElementContentAsStringAsync().ConfigureAwait(false);
                    continue;
                }

                if (xml.NodeType == XmlNodeType.EndElement && xml.LocalName == "Part")
                {
                    parts.Add((number ?? throw new FormatException("a Part without PartNumber"), etag ?? throw new FormatException("a Part without ETag")));
                    (number, etag) = (null, null);
                    if (parts.Count > MaxPartNumber)
                    {
                        throw new FormatException($"more than {MaxPartNumber} parts");
                    }
                }

                await xml.ReadAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is XmlException or FormatException or OverflowException)
        {
            throw new S3Exception(400, "MalformedXML", $"The XML you provided was not well-formed or did not validate against our published schema: {e.Message}", resource.Name);
        }

        return parts.Count == 0
            ? throw new S3Exception(400, "MalformedXML", "The XML you provided names no part.", resource.Name)
            : parts;
    }
}
