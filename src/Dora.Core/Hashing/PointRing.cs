using System.Numerics;
using System.Runtime.CompilerServices;

namespace Dora.Core.Hashing;

/// <summary>
/// Points on a 64-bit circle, each owned by a member, sorted by (position, member index). A bucket index over the top
/// bits of the position makes the successor search O(1) on average instead of a binary search over every point, which
/// keeps lookups fast at 1000 workers times hundreds of virtual nodes.
/// </summary>
internal sealed class PointRing
{
    private readonly ulong[] _positions;
    private readonly int[] _owners;
    private readonly int[] _bucketStart;
    private readonly int _bucketShift;

    public PointRing(List<(ulong Position, int Member)> points)
    {
        if (points.Count == 0)
        {
            throw new ArgumentException("A ring needs at least one point.", nameof(points));
        }

        points.Sort(static (a, b) => a.Position != b.Position ? a.Position.CompareTo(b.Position) : a.Member.CompareTo(b.Member));
        _positions = new ulong[points.Count];
        _owners = new int[points.Count];
        for (int i = 0; i < points.Count; i++)
        {
            _positions[i] = points[i].Position;
            _owners[i] = points[i].Member;
        }

        int bucketBits = Math.Clamp(BitOperations.Log2((uint)points.Count) + 1, 1, 24);
        _bucketShift = 64 - bucketBits;
        _bucketStart = new int[(1 << bucketBits) + 1];
        int point = 0;
        for (int bucket = 0; bucket < 1 << bucketBits; bucket++)
        {
            ulong bucketFloor = (ulong)bucket << _bucketShift;
            while (point < _positions.Length && _positions[point] < bucketFloor)
            {
                point++;
            }

            _bucketStart[bucket] = point;
        }

        _bucketStart[1 << bucketBits] = _positions.Length;
    }

    /// <summary>
    /// The virtual-node ring: member <c>m</c> has points <c>XXH64(utf8(id), seed = r)</c> for
    /// <c>r = 0 .. round(relative weight * pointsPerUnit) - 1</c>, at least one.
    /// </summary>
    public static PointRing WithVirtualNodes(IReadOnlyList<RingMember> members, int pointsPerUnit)
    {
        double[] weights = Weights.RelativeToMean(members);
        var points = new List<(ulong, int)>();
        for (int m = 0; m < members.Count; m++)
        {
            int count = Weights.PointCount(weights[m], pointsPerUnit);
            for (int r = 0; r < count; r++)
            {
                points.Add((KeyHash.Of(members[m].Id, (ulong)r), m));
            }
        }

        return new PointRing(points);
    }

    public int Count => _positions.Length;

    public long MemoryBytes => (_positions.Length * (long)(sizeof(ulong) + sizeof(int))) + (_bucketStart.Length * (long)sizeof(int));

    /// <summary>Index of the first point at or after <paramref name="position"/>, wrapping to 0 past the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Successor(ulong position)
    {
        int bucket = (int)(position >> _bucketShift);
        int index = _bucketStart[bucket];
        int end = _bucketStart[bucket + 1];
        ulong[] positions = _positions;
        while (index < end && positions[index] < position)
        {
            index++;
        }

        return index == positions.Length ? 0 : index;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong PositionAt(int index) => _positions[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int OwnerAt(int index) => _owners[index];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(int index) => index + 1 == _positions.Length ? 0 : index + 1;

    /// <summary>
    /// Walks clockwise from point <paramref name="start"/>, writing distinct owners in the order met, after the
    /// <paramref name="filled"/> owners already in <paramref name="owners"/>. Returns the new count.
    /// </summary>
    public int CollectDistinct(int start, Span<int> owners, int filled, int memberCount)
    {
        int wanted = Math.Min(owners.Length, memberCount);
        int index = start;
        for (int step = 0; step < _positions.Length && filled < wanted; step++)
        {
            int owner = _owners[index];
            if (!owners[..filled].Contains(owner))
            {
                owners[filled++] = owner;
            }

            index = Next(index);
        }

        return filled;
    }
}
