using System.Xml;
using Dora.S3Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.Operations;

/// <summary>
/// DeleteObjects (<c>POST /bucket?delete</c>): up to 1,000 keys in one XML body, each deleted as DeleteObject would,
/// each reported as deleted or with its own error; <c>Quiet</c> leaves the deleted ones out.
/// </summary>
internal static class DeleteObjects
{
    /// <summary>Most keys one request deletes: 1,000, as S3.</summary>
    public const int MaxKeys = 1000;

    public static async Task RunAsync(HttpContext http, S3Resource resource, ObjectSource objects)
    {
        await BucketReads.EnsureBucketAsync(objects, resource, http.RequestAborted).ConfigureAwait(false);
        (List<string> keys, bool quiet) = await ParseAsync(http.Request.Body, resource).ConfigureAwait(false);
        var deleted = new List<string>();
        var failed = new List<(string Key, S3Exception Error)>();
        foreach (string key in keys)
        {
            var target = new S3Resource(resource.Bucket, key);
            try
            {
                await ObjectWrites.DeleteKeyAsync(objects, target, http.RequestAborted).ConfigureAwait(false);
                deleted.Add(key);
            }
            catch (S3Exception e)
            {
                failed.Add((key, e));
            }
            catch (Exception e) when (e is Dora.Core.Errors.DoraException)
            {
                failed.Add((key, new S3Exception(500, "InternalError", e.Message, target.Name)));
            }
        }

        http.Response.ContentType = "application/xml";
        await S3Xml.WriteAsync(http.Response.Body, "DeleteResult", xml =>
        {
            if (!quiet)
            {
                foreach (string key in deleted)
                {
                    xml.WriteStartElement("Deleted");
                    xml.WriteElementString("Key", key);
                    xml.WriteEndElement();
                }
            }

            foreach ((string key, S3Exception error) in failed)
            {
                xml.WriteStartElement("Error");
                xml.WriteElementString("Key", key);
                xml.WriteElementString("Code", error.Code);
                xml.WriteElementString("Message", error.Message);
                xml.WriteEndElement();
            }
        }).ConfigureAwait(false);
    }

    /// <summary>The keys and Quiet flag of a DeleteObjects body.</summary>
    /// <exception cref="S3Exception">MalformedXML.</exception>
    internal static async Task<(List<string> Keys, bool Quiet)> ParseAsync(Stream body, S3Resource resource)
    {
        var keys = new List<string>();
        bool quiet = false;
        var settings = new XmlReaderSettings { Async = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true };
        try
        {
            using XmlReader xml = XmlReader.Create(body, settings);
            await xml.ReadAsync().ConfigureAwait(false);
            while (!xml.EOF)
            {
                // Reading an element's content moves past it: only other nodes need the next read.
                if (xml.NodeType == XmlNodeType.Element && xml.LocalName == "Quiet")
                {
                    quiet = (await xml.ReadElementContentAsStringAsync().ConfigureAwait(false)).Trim() == "true";
                    continue;
                }

                if (xml.NodeType == XmlNodeType.Element && xml.LocalName == "Key")
                {
                    keys.Add(await xml.ReadElementContentAsStringAsync().ConfigureAwait(false));
                    if (keys.Count > MaxKeys)
                    {
                        throw new S3Exception(400, "MalformedXML", $"A DeleteObjects request may name at most {MaxKeys} keys.", resource.Name);
                    }

                    continue;
                }

                await xml.ReadAsync().ConfigureAwait(false);
            }
        }
        catch (XmlException e)
        {
            throw new S3Exception(400, "MalformedXML", $"The XML you provided was not well-formed or did not validate: {e.Message}", resource.Name);
        }

        return keys.Count == 0
            ? throw new S3Exception(400, "MalformedXML", "The XML you provided names no key to delete.", resource.Name)
            : (keys, quiet);
    }
}
