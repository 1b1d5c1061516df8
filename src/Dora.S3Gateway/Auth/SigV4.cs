using System.Security.Cryptography;
using System.Text;

namespace Dora.S3Gateway.Auth;

/// <summary>
/// The pieces of AWS Signature Version 4 as S3 defines them: URI encoding, the canonical query string and headers, the
/// signing key derived from the secret, date, region and service, and HMAC-SHA256 signatures in lower-case hex.
/// </summary>
internal static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The SHA-256 of an empty payload, in hex.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX in upper case.</summary>
    public static string UriEncode(string value, bool encodeSlash = true)
    {
        var builder = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (Rune rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is '-' or '_' or '.' or '~' || (rune.Value == '/' && !encodeSlash)))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            int length = rune.EncodeToUtf8(utf8);
            for (int i = 0; i < length; i++)
            {
                builder.Append('%').Append(utf8[i].ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// The canonical query string of a raw query (without '?'): each name and value decoded, then re-encoded, sorted by
    /// name then value; <paramref name="excluded"/> (the presigned signature) left out.
    /// </summary>
    public static string CanonicalQuery(string rawQuery, string? excluded = null)
    {
        if (rawQuery.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<(string Name, string Value)>();
        foreach (string part in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(equals < 0 ? part : part[..equals]);
            string value = equals < 0 ? string.Empty : Uri.UnescapeDataString(part[(equals + 1)..]);
            if (name != excluded)
            {
                pairs.Add((UriEncode(name), UriEncode(value)));
            }
        }

        pairs.Sort((a, b) => a.Name != b.Name ? string.CompareOrdinal(a.Name, b.Name) : string.CompareOrdinal(a.Value, b.Value));
        return string.Join('&', pairs.Select(p => $"{p.Name}={p.Value}"));
    }

    /// <summary>A header value as canonical headers take it: trimmed, runs of spaces made one.</summary>
    public static string TrimValue(string value)
    {
        var builder = new StringBuilder(value.Length);
        bool space = false;
        foreach (char c in value.Trim())
        {
            if (c == ' ')
            {
                if (!space)
                {
                    builder.Append(c);
                }

                space = true;
                continue;
            }

            space = false;
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>The key of one day, region and service: HMAC chain from <c>"AWS4" + secret</c>.</summary>
    public static byte[] SigningKey(string secret, string date, string region, string service)
    {
        byte[] key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>HMAC-SHA256 of <paramref name="text"/> with <paramref name="key"/>, in lower-case hex.</summary>
    public static string Sign(byte[] key, string text) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));

    /// <summary>SHA-256 of <paramref name="text"/> (UTF-8), in lower-case hex.</summary>
    public static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Compares two signatures in constant time.</summary>
    public static bool SameSignature(string expected, string presented) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(presented));
}
