using System.Buffers.Binary;
using System.Text;
using Dora.S3Gateway.Auth;
using Dora.S3Gateway.Protocol;
using Dora.TestSupport;
using Microsoft.AspNetCore.Http;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>
/// Upload bodies as S3 defines them, built here by hand: aws-chunked with and without chunk signatures and trailers,
/// every checksum algorithm against its published check value, and each broken promise refused with S3's code.
/// </summary>
public sealed class PayloadTests
{
    private const string AmzDate = "20261203T010203Z";
    private const string Scope = "20261203/us-east-1/s3/aws4_request";
    private const string SeedSignature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    private static readonly byte[] Key = SigV4.SigningKey("secret", "20261203", "us-east-1", "s3");

    [Theory]
    [InlineData("crc32", 0xCBF43926ul, 4)]
    [InlineData("crc32c", 0xE3069283ul, 4)]
    [InlineData("crc64nvme", 0xAE8B14860A799888ul, 8)]
    public void Checksums_match_their_published_check_values(string algorithm, ulong check, int bytes)
    {
        ContentChecksum checksum = ContentChecksum.ForHeader("x-amz-checksum-" + algorithm)!;
        checksum.Append("123456789"u8);
        byte[] expected = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(expected, check);
        Assert.Equal(Convert.ToBase64String(expected[(8 - bytes)..]), checksum.Value());
    }

    private static string Checksum(string algorithm, byte[] data)
    {
        ContentChecksum checksum = ContentChecksum.ForHeader("x-amz-checksum-" + algorithm)!;
        checksum.Append(data);
        return checksum.Value();
    }

    /// <summary>An aws-chunked body of <paramref name="data"/> in chunks of <paramref name="chunk"/> bytes.</summary>
    private static byte[] Chunked(byte[] data, int chunk, bool signed, string? trailer, Func<int, byte[], byte[]>? tamper = null)
    {
        var body = new MemoryStream();
        string previous = SeedSignature;
        for (int offset = 0, index = 0; ; offset += chunk, index++)
        {
            byte[] piece = data.AsSpan(Math.Min(offset, data.Length), Math.Clamp(data.Length - offset, 0, chunk)).ToArray();
            string header = piece.Length.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
            if (signed)
            {
                previous = SigV4.Sign(Key, $"AWS4-HMAC-SHA256-PAYLOAD\n{AmzDate}\n{Scope}\n{previous}\n{SigV4.EmptySha256}\n{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(piece))}");
                header += ";chunk-signature=" + previous;
            }

            body.Write(Encoding.ASCII.GetBytes(header + "\r\n"));
            body.Write(tamper?.Invoke(index, piece) ?? piece);
            if (piece.Length == 0)
            {
                break;
            }

            body.Write("\r\n"u8);
        }

        if (trailer is null)
        {
            body.Write("\r\n"u8);
        }
        else
        {
            string line = $"x-amz-checksum-{trailer}:{Checksum(trailer, data)}";
            body.Write(Encoding.ASCII.GetBytes(line + "\r\n"));
            if (signed)
            {
                string signature = SigV4.Sign(Key, $"AWS4-HMAC-SHA256-TRAILER\n{AmzDate}\n{Scope}\n{previous}\n{SigV4.Sha256Hex(line + "\n")}");
                body.Write(Encoding.ASCII.GetBytes($"x-amz-trailer-signature:{signature}\r\n"));
            }

            body.Write("\r\n"u8);
        }

        return body.ToArray();
    }

    private static async Task<(ReceivedPayload Payload, byte[] Written)> ReceiveAsync(byte[] body, string mode, long decoded, string? trailer)
    {
        var http = new DefaultHttpContext();
        http.Request.Body = new MemoryStream(body);
        http.Request.Headers["x-amz-decoded-content-length"] = decoded.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (trailer is not null)
        {
            http.Request.Headers["x-amz-trailer"] = "x-amz-checksum-" + trailer;
        }

        var principal = new S3Principal("key", mode, Key, Scope, AmzDate, SeedSignature);
        var written = new MemoryStream();
        ReceivedPayload payload = await RequestPayload.CopyAsync(http, principal, 1L << 30, (data, _) => { written.Write(data.Span); return ValueTask.CompletedTask; }, "/b/k");
        return (payload, written.ToArray());
    }

    [Theory]
    [InlineData("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", true, null)]
    [InlineData("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", true, "crc32")]
    [InlineData("STREAMING-UNSIGNED-PAYLOAD-TRAILER", false, "crc32c")]
    [InlineData("STREAMING-UNSIGNED-PAYLOAD-TRAILER", false, "crc64nvme")]
    [InlineData("STREAMING-UNSIGNED-PAYLOAD-TRAILER", false, "sha256")]
    public async Task Every_streaming_form_decodes_to_the_exact_bytes(string mode, bool withSignatures, string? trailer)
    {
        byte[] data = TestFiles.RandomBytes(200_000, seed: 7);
        (ReceivedPayload payload, byte[] written) = await ReceiveAsync(Chunked(data, 65_536, withSignatures, trailer), mode, data.Length, trailer).Within();
        Assert.Equal(data, written);
        Assert.Equal(data.Length, payload.Length);
    }

    [Fact]
    public async Task A_changed_byte_a_wrong_trailer_and_a_short_body_are_refused()
    {
        byte[] data = TestFiles.RandomBytes(150_000, seed: 8);
        byte[] Flip(int index, byte[] piece)
        {
            if (index == 1)
            {
                piece = (byte[])piece.Clone();
                piece[10] ^= 1;
            }

            return piece;
        }

        var signature = await Assert.ThrowsAsync<S3Exception>(() => ReceiveAsync(Chunked(data, 65_536, true, null, Flip), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data.Length, null)).Within();
        Assert.Equal("SignatureDoesNotMatch", signature.Code);

        var checksum = await Assert.ThrowsAsync<S3Exception>(() => ReceiveAsync(Chunked(data, 65_536, false, "crc32", Flip), "STREAMING-UNSIGNED-PAYLOAD-TRAILER", data.Length, "crc32")).Within();
        Assert.Equal("BadDigest", checksum.Code);

        byte[] whole = Chunked(data, 65_536, true, null);
        var shortBody = await Assert.ThrowsAsync<S3Exception>(() => ReceiveAsync(whole[..^100], "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data.Length, null)).Within();
        Assert.Equal("IncompleteBody", shortBody.Code);

        var tooLong = await Assert.ThrowsAsync<S3Exception>(() => ReceiveAsync(whole, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", data.Length - 1, null)).Within();
        Assert.Equal("IncompleteBody", tooLong.Code);
    }
}
