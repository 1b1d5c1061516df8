using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Dora.Core.Hashing;

/// <summary>
/// Ketama, the ring of libketama and most memcached clients: member <c>m</c> hashes <c>"{m.id}-{i}"</c> with MD5 for
/// <c>i = 0 .. count/4 - 1</c> and takes four little-endian 32-bit points from each digest, <c>count</c> being
/// <c>floor(weight share * 160 * members)</c>; a key's position is the first four bytes of MD5 of its UTF-8 bytes,
/// little-endian. It exists for compatibility with that ecosystem; MD5 per lookup makes it the slowest policy.
/// </summary>
[SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms",
    Justification = "MD5 is ketama's placement function, used for compatibility and never for security.")]
public sealed class KetamaPolicy : IPlacementPolicy
{
    /// <summary>libketama's points per member at mean weight (40 digests of 4 points).</summary>
    public const int PointsPerMember = 160;

    /// <inheritdoc/>
    public string Name => "ketama";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        double[] weights = Weights.RelativeToMean(members);
        var points = new List<(ulong, int)>();
        Span<byte> digest = stackalloc byte[16];
        for (int m = 0; m < members.Count; m++)
        {
            int digests = Math.Max(1, (int)Math.Floor(weights[m] * PointsPerMember / 4));
            for (int i = 0; i < digests; i++)
            {
                MD5.HashData(Encoding.UTF8.GetBytes($"{members[m].Id}-{i}"), digest);
                for (int h = 0; h < 4; h++)
                {
                    // 32-bit ketama points live in the top half of Dora's 64-bit circle, which keeps their order.
                    points.Add(((ulong)BinaryPrimitives.ReadUInt32LittleEndian(digest[(h * 4)..]) << 32, m));
                }
            }
        }

        return new KetamaPlacement(members, new PointRing(points));
    }

    /// <summary>The ketama position of a path: MD5 of its UTF-8 bytes, first four bytes little-endian.</summary>
    public static uint PositionOf(string path)
    {
        Span<byte> digest = stackalloc byte[16];
        MD5.HashData(Encoding.UTF8.GetBytes(path), digest);
        return BinaryPrimitives.ReadUInt32LittleEndian(digest);
    }

    /// <summary>
    /// Ketama hashes the path itself, not Dora's XXH64 key hash; <see cref="HashRing"/> asks
    /// <see cref="IPathPlacement.PositionOfPath"/> for it.
    /// </summary>
    private sealed class KetamaPlacement(IReadOnlyList<RingMember> members, PointRing ring) : IPathPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => ring.MemoryBytes;

        public int OwnerOf(ulong keyHash) => ring.OwnerAt(ring.Successor(keyHash & 0xFFFF_FFFF_0000_0000UL));

        public int OwnersOf(ulong keyHash, Span<int> owners) =>
            owners.IsEmpty ? 0 : ring.CollectDistinct(ring.Successor(keyHash & 0xFFFF_FFFF_0000_0000UL), owners, 0, members.Count);

        public ulong PositionOfPath(string path) => (ulong)PositionOf(path) << 32;
    }
}

/// <summary>A placement whose key position is computed from the path by its own rule instead of XXH64.</summary>
internal interface IPathPlacement : IPlacement
{
    /// <summary>The 64-bit value to pass to <see cref="IPlacement.OwnerOf"/> for this path.</summary>
    ulong PositionOfPath(string path);
}
