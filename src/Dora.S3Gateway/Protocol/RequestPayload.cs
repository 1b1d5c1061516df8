using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dora.S3Gateway.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Dora.S3Gateway.Protocol;

/// <summary>What was received: the object's length and the MD5 of its bytes (S3's ETag of a single-part upload).</summary>
internal readonly record struct ReceivedPayload(long Length, string Md5Hex);

/// <summary>
/// Reads an upload's body and holds it to every promise made about it, while the bytes stream to their destination
/// (nothing is committed before the end is checked): the length, the signed SHA-256 (<c>x-amz-content-sha256</c>),
/// <c>Content-MD5</c>, whole-body checksums (<c>x-amz-checksum-*</c>, as headers or trailers), and for streaming
/// uploads (<c>aws-chunked</c>) every chunk's signature and the trailer's.
/// </summary>
internal static class RequestPayload
{
    private const int BufferBytes = 64 << 10;
    private const int MaxLineBytes = 4096;

    public static async Task<ReceivedPayload> CopyAsync(HttpContext http, S3Principal principal, long maxBytes, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, string resource)
    {
        HttpRequest request = http.Request;
        bool streaming = principal.PayloadHash.StartsWith("STREAMING-", StringComparison.Ordinal);
        long length = Length(request, streaming, resource);
        if (length > maxBytes)
        {
            throw new S3Exception(400, "EntityTooLarge", $"Your proposed upload ({length} bytes) exceeds the maximum allowed object size ({maxBytes} bytes).", resource);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Chunk headers and trailers add a little to the decoded length.
            limit.MaxRequestBodySize = streaming ? length + (length / 1024) + (64 << 10) : length;
        }

        var checks = new Checks(request, principal, resource);
        var reader = new BodyReader(request.Body, http.RequestAborted);
        if (!streaming)
        {
            await reader.CopyAsync(length, checks, sink).ConfigureAwait(false);
            await reader.ExpectEndAsync(resource).ConfigureAwait(false);
        }
        else
        {
            await CopyChunkedAsync(reader, principal, checks, length, sink, resource).ConfigureAwait(false);
        }

        return checks.Finish();
    }

    private static long Length(HttpRequest request, bool streaming, string resource)
    {
        string? text = streaming ? request.Headers["x-amz-decoded-content-length"].FirstOrDefault() : request.Headers.ContentLength?.ToString(CultureInfo.InvariantCulture);
        if (text is null)
        {
            throw new S3Exception(411, "MissingContentLength", streaming ? "You must provide the x-amz-decoded-content-length header for a streaming upload." : "You must provide the Content-Length HTTP header.", resource);
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            ? length
            : throw S3Exception.InvalidArgument($"The decoded content length '{text}' is not a number.", resource);
    }

    /// <summary>
    /// <c>aws-chunked</c>: <c>HEX-SIZE[;chunk-signature=SIG]\r\nDATA\r\n</c> until a chunk of size 0, then trailer lines
    /// (<c>name:value</c>, with <c>x-amz-trailer-signature</c> when signed) and an empty line.
    /// </summary>
    private static async Task CopyChunkedAsync(BodyReader reader, S3Principal principal, Checks checks, long declared, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, string resource)
    {
        bool signed = principal.PayloadHash.StartsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", StringComparison.Ordinal);
        bool trailer = principal.PayloadHash.EndsWith("-TRAILER", StringComparison.Ordinal);
        string previous = principal.Signature ?? string.Empty;
        long total = 0;
        while (true)
        {
            string header = await reader.ReadLineAsync(resource).ConfigureAwait(false);
            int semicolon = header.IndexOf(';', StringComparison.Ordinal);
            string sizeText = semicolon < 0 ? header : header[..semicolon];
            if (!long.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size) || size < 0 || total + size > declared)
            {
                throw new S3Exception(400, "IncompleteBody", $"A chunk header '{Truncate(header)}' is malformed or goes past the decoded content length {declared}.", resource);
            }

            using var chunkHash = signed ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
            await reader.CopyAsync(size, checks, sink, chunkHash).ConfigureAwait(false);
            total += size;
            if (signed)
            {
                const string key = "chunk-signature=";
                string presented = semicolon >= 0 && header[(semicolon + 1)..].StartsWith(key, StringComparison.Ordinal) ? header[(semicolon + 1 + key.Length)..] : string.Empty;
                string expected = SigV4.Sign(principal.SigningKey!, $"AWS4-HMAC-SHA256-PAYLOAD\n{principal.AmzDate}\n{principal.Scope}\n{previous}\n{SigV4.EmptySha256}\n{Convert.ToHexStringLower(chunkHash!.GetHashAndReset())}");
                if (!SigV4.SameSignature(expected, presented))
                {
                    throw new S3Exception(403, "SignatureDoesNotMatch", "The chunk signature we calculated does not match the signature you provided.", resource);
                }

                previous = expected;
            }

            if (size == 0)
            {
                break;
            }

            if ((await reader.ReadLineAsync(resource).ConfigureAwait(false)).Length != 0)
            {
                throw new S3Exception(400, "IncompleteBody", "A chunk's data is not followed by CRLF.", resource);
            }
        }

        if (total != declared)
        {
            throw new S3Exception(400, "IncompleteBody", $"The chunks hold {total} bytes; x-amz-decoded-content-length said {declared}.", resource);
        }

        if (trailer)
        {
            var lines = new StringBuilder();
            string? trailerSignature = null;
            for (string line = await reader.ReadLineAsync(resource).ConfigureAwait(false); line.Length > 0; line = await reader.ReadLineAsync(resource).ConfigureAwait(false))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new S3Exception(400, "MalformedTrailerError", $"The trailer line '{Truncate(line)}' is not name:value.", resource);
                }

                string name = line[..colon].Trim().ToLowerInvariant();
                string value = line[(colon + 1)..].Trim();
                if (name == "x-amz-trailer-signature")
                {
                    trailerSignature = value;
                    continue;
                }

                lines.Append(name).Append(':').Append(value).Append('\n');
                checks.Promise(name, value);
            }

            if (signed)
            {
                string expected = SigV4.Sign(principal.SigningKey!, $"AWS4-HMAC-SHA256-TRAILER\n{principal.AmzDate}\n{principal.Scope}\n{previous}\n{SigV4.Sha256Hex(lines.ToString())}");
                if (trailerSignature is null || !SigV4.SameSignature(expected, trailerSignature))
                {
                    throw new S3Exception(403, "SignatureDoesNotMatch", "The trailer signature we calculated does not match the signature you provided.", resource);
                }
            }
        }
        else if ((await reader.ReadLineAsync(resource).ConfigureAwait(false)).Length != 0)
        {
            throw new S3Exception(400, "IncompleteBody", "The final chunk is not followed by CRLF.", resource);
        }

        await reader.ExpectEndAsync(resource).ConfigureAwait(false);
    }

    private static string Truncate(string text) => text.Length > 80 ? text[..80] + "..." : text;

    /// <summary>The running hashes of the content and what the request promised they would be.</summary>
    private sealed class Checks
    {
        private readonly IncrementalHash _md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        private readonly IncrementalHash? _sha256;
        private readonly string? _sha256Promised;
        private readonly string? _md5Promised;
        private readonly List<(ContentChecksum Checksum, string? Promised)> _checksums = [];
        private readonly string _resource;
        private long _length;

        public Checks(HttpRequest request, S3Principal principal, string resource)
        {
            _resource = resource;
            if (principal.PayloadHash.Length == 64 && principal.PayloadHash.All(char.IsAsciiHexDigitLower))
            {
                _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                _sha256Promised = principal.PayloadHash;
            }

            _md5Promised = request.Headers["Content-MD5"].FirstOrDefault();
            foreach ((string name, var value) in request.Headers)
            {
                if (ContentChecksum.ForHeader(name) is { } checksum)
                {
                    _checksums.Add((checksum, value.ToString()));
                }
            }

            // A trailer announced in x-amz-trailer is computed now and compared when it arrives.
            foreach (string name in request.Headers["x-amz-trailer"].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
            {
                if (ContentChecksum.ForHeader(name) is { } checksum && _checksums.All(c => c.Checksum.Algorithm != checksum.Algorithm))
                {
                    _checksums.Add((checksum, null));
                }
            }
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            _length += data.Length;
            _md5.AppendData(data);
            _sha256?.AppendData(data);
            foreach ((ContentChecksum checksum, _) in _checksums)
            {
                checksum.Append(data);
            }
        }

        /// <summary>A value the trailer promises.</summary>
        public void Promise(string name, string value)
        {
            int index = _checksums.FindIndex(c => c.Checksum.Header == name);
            if (index >= 0)
            {
                _checksums[index] = (_checksums[index].Checksum, value);
            }
            else if (ContentChecksum.ForHeader(name) is not null)
            {
                throw new S3Exception(400, "InvalidRequest", $"The trailer '{name}' was not announced in x-amz-trailer.", _resource);
            }
        }

        public ReceivedPayload Finish()
        {
            if (_sha256 is not null && Convert.ToHexStringLower(_sha256.GetHashAndReset()) != _sha256Promised)
            {
                throw new S3Exception(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", _resource);
            }

            byte[] md5 = _md5.GetHashAndReset();
            if (_md5Promised is not null && Convert.ToBase64String(md5) != _md5Promised)
            {
                throw new S3Exception(400, "BadDigest", "The Content-MD5 you specified did not match what we received.", _resource);
            }

            foreach ((ContentChecksum checksum, string? promised) in _checksums)
            {
                if (promised is null)
                {
                    throw new S3Exception(400, "InvalidRequest", $"The trailer '{checksum.Header}' announced in x-amz-trailer never came.", _resource);
                }

                if (checksum.Value() != promised)
                {
                    throw new S3Exception(400, "BadDigest", $"The {checksum.Algorithm.ToUpperInvariant()} you specified did not match the calculated checksum.", _resource);
                }
            }

            return new ReceivedPayload(_length, Convert.ToHexStringLower(md5));
        }
    }

    /// <summary>Buffered reading of a request body: lines of bounded length, and exact runs of bytes to a sink.</summary>
    private sealed class BodyReader(Stream body, CancellationToken cancellationToken)
    {
        private readonly byte[] _buffer = new byte[BufferBytes];
        private int _start;
        private int _end;

        public async Task CopyAsync(long count, Checks checks, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> sink, IncrementalHash? chunkHash = null)
        {
            while (count > 0)
            {
                if (_start == _end && !await FillAsync().ConfigureAwait(false))
                {
                    throw new S3Exception(400, "IncompleteBody", $"The request body ended {count} bytes short of what was declared.");
                }

                int take = (int)Math.Min(count, _end - _start);
                ReadOnlyMemory<byte> data = _buffer.AsMemory(_start, take);
                checks.Append(data.Span);
                chunkHash?.AppendData(data.Span);
                await sink(data, cancellationToken).ConfigureAwait(false);
                _start += take;
                count -= take;
            }
        }

        public async Task<string> ReadLineAsync(string resource)
        {
            var line = new List<byte>();
            while (true)
            {
                if (_start == _end && !await FillAsync().ConfigureAwait(false))
                {
                    throw new S3Exception(400, "IncompleteBody", "The request body ended inside a chunk header.", resource);
                }

                byte b = _buffer[_start++];
                if (b == '\n' && line.Count > 0 && line[^1] == '\r')
                {
                    return Encoding.ASCII.GetString([.. line.Take(line.Count - 1)]);
                }

                line.Add(b);
                if (line.Count > MaxLineBytes)
                {
                    throw new S3Exception(400, "IncompleteBody", $"A chunk header or trailer line is longer than {MaxLineBytes} bytes.", resource);
                }
            }
        }

        public async Task ExpectEndAsync(string resource)
        {
            if (_start != _end || await FillAsync().ConfigureAwait(false))
            {
                throw new S3Exception(400, "IncompleteBody", "The request body goes on past what was declared.", resource);
            }
        }

        private async Task<bool> FillAsync()
        {
            _start = 0;
            _end = await body.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
            return _end > 0;
        }
    }
}
