using System.Globalization;
using System.Text;
using System.Xml;

namespace Dora.S3Gateway.Protocol;

/// <summary>Writes S3's XML documents (namespace <c>http://s3.amazonaws.com/doc/2006-03-01/</c>) to a response body.</summary>
internal static class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    private static readonly XmlWriterSettings Settings = new() { Encoding = new UTF8Encoding(false), Async = true, Indent = false };

    /// <summary>Writes a document whose root is <paramref name="root"/> and whose content <paramref name="write"/> adds.</summary>
    public static async Task WriteAsync(Stream body, string root, Action<XmlWriter> write, bool withNamespace = true)
    {
        await using XmlWriter xml = XmlWriter.Create(body, Settings);
        xml.WriteStartDocument();
        if (withNamespace)
        {
            xml.WriteStartElement(root, Namespace);
        }
        else
        {
            xml.WriteStartElement(root);
        }

        write(xml);
        xml.WriteEndElement();
        xml.WriteEndDocument();
        await xml.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>S3's error document: Code, Message, Resource, RequestId.</summary>
    public static Task ErrorAsync(Stream body, S3Exception error, string requestId) => WriteAsync(body, "Error", xml =>
    {
        xml.WriteElementString("Code", error.Code);
        xml.WriteElementString("Message", error.Message);
        if (error.Resource is not null)
        {
            xml.WriteElementString("Resource", error.Resource);
        }

        xml.WriteElementString("RequestId", requestId);
    }, withNamespace: false);

    /// <summary>Timestamps as S3's XML writes them: ISO 8601 UTC with milliseconds.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Timestamps as S3's headers write them (RFC 1123).</summary>
    public static string HttpDate(DateTimeOffset time) => time.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);
}
