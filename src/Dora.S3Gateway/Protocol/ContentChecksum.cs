using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dora.S3Gateway.Protocol;

/// <summary>
/// The whole-body checksums S3 clients send (<c>x-amz-checksum-ALGORITHM</c>, as a header or a trailer): CRC32,
/// CRC32C, CRC64NVME, SHA1, SHA256, each computed incrementally and compared as S3 writes it (base64 of the big-endian
/// value or digest).
/// </summary>
internal sealed class ContentChecksum
{
    private static readonly uint[] Crc32CTable = ReflectedTable32(0x82F63B78u);
    private static readonly ulong[] Crc64NvmeTable = ReflectedTable64(0x9A6C9329AC4BC9B5ul);

    private readonly System.IO.Hashing.Crc32? _crc32;
    private readonly IncrementalHash? _digest;
    private uint _crc32c = uint.MaxValue;
    private ulong _crc64 = ulong.MaxValue;

    private ContentChecksum(string algorithm)
    {
        Algorithm = algorithm;
        switch (algorithm)
        {
            case "crc32":
                _crc32 = new System.IO.Hashing.Crc32();
                break;
            case "sha1":
                _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                break;
            case "sha256":
                _digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                break;
        }
    }

    /// <summary>The algorithm, lower case, as in the header name.</summary>
    public string Algorithm { get; }

    /// <summary>The header (or trailer) name: <c>x-amz-checksum-ALGORITHM</c>.</summary>
    public string Header => "x-amz-checksum-" + Algorithm;

    /// <summary>The checksum of a header name such as <c>x-amz-checksum-crc32</c>; null for another name.</summary>
    /// <exception cref="S3Exception">InvalidRequest for an algorithm S3 does not define.</exception>
    public static ContentChecksum? ForHeader(string name)
    {
        const string prefix = "x-amz-checksum-";
        if (!name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || name.Equals("x-amz-checksum-type", StringComparison.OrdinalIgnoreCase)
            || name.Equals("x-amz-checksum-algorithm", StringComparison.OrdinalIgnoreCase) || name.Equals("x-amz-checksum-mode", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string algorithm = name[prefix.Length..].ToLowerInvariant();
        return algorithm is "crc32" or "crc32c" or "crc64nvme" or "sha1" or "sha256"
            ? new ContentChecksum(algorithm)
            : throw new S3Exception(400, "InvalidRequest", $"The checksum algorithm of '{name}' is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256.");
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        switch (Algorithm)
        {
            case "crc32":
                _crc32!.Append(data);
                break;
            case "crc32c":
                foreach (byte b in data)
                {
                    _crc32c = Crc32CTable[(byte)(_crc32c ^ b)] ^ (_crc32c >> 8);
                }

                break;
            case "crc64nvme":
                foreach (byte b in data)
                {
                    _crc64 = Crc64NvmeTable[(byte)(_crc64 ^ b)] ^ (_crc64 >> 8);
                }

                break;
            default:
                _digest!.AppendData(data);
                break;
        }
    }

    /// <summary>The checksum as S3 writes it: base64 of the big-endian value or the digest.</summary>
    public string Value()
    {
        switch (Algorithm)
        {
            case "crc32":
                return Convert.ToBase64String(BitConverter.GetBytes(BinaryPrimitives.ReverseEndianness(_crc32!.GetCurrentHashAsUInt32())));
            case "crc32c":
                byte[] crc32c = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(crc32c, ~_crc32c);
                return Convert.ToBase64String(crc32c);
            case "crc64nvme":
                byte[] crc64 = new byte[8];
                BinaryPrimitives.WriteUInt64BigEndian(crc64, ~_crc64);
                return Convert.ToBase64String(crc64);
            default:
                return Convert.ToBase64String(_digest!.GetCurrentHash());
        }
    }

    private static uint[] ReflectedTable32(uint polynomial)
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint value = i;
            for (int bit = 0; bit < 8; bit++)
            {
                value = (value & 1) != 0 ? (value >> 1) ^ polynomial : value >> 1;
            }

            table[i] = value;
        }

        return table;
    }

    private static ulong[] ReflectedTable64(ulong polynomial)
    {
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            ulong value = i;
            for (int bit = 0; bit < 8; bit++)
            {
                value = (value & 1) != 0 ? (value >> 1) ^ polynomial : value >> 1;
            }

            table[i] = value;
        }

        return table;
    }
}
