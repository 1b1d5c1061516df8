namespace Dora.Core.Hashing;

/// <summary>
/// Jump consistent hash (Lamping and Veach, 2014): no table, perfect balance, minimal movement when buckets are added
/// or removed at the end. Dora numbers buckets by member id order (weights repeat a member over several buckets), so a
/// member that joins or leaves in the middle of that order shifts every later bucket: the benchmark shows the cost.
/// </summary>
public sealed class JumpPolicy : IPlacementPolicy
{
    /// <summary>The most buckets one member gets, however heavy.</summary>
    public const int MaxBucketsPerMember = 64;

    /// <inheritdoc/>
    public string Name => "jump";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        double minWeight = double.MaxValue;
        for (int m = 0; m < members.Count; m++)
        {
            minWeight = Math.Min(minWeight, members[m].Weight);
        }

        var buckets = new List<int>();
        for (int m = 0; m < members.Count; m++)
        {
            // Buckets are whole, so weights count in multiples of the lightest member, at most MaxBucketsPerMember.
            int count = Math.Min(MaxBucketsPerMember, Weights.PointCount(members[m].Weight / minWeight, 1));
            for (int i = 0; i < count; i++)
            {
                buckets.Add(m);
            }
        }

        return new JumpPlacement(members, [.. buckets]);
    }

    /// <summary>The bucket in <c>[0, buckets)</c> for a key, exactly as the paper's reference code computes it.</summary>
    public static int Bucket(ulong key, int buckets)
    {
        long bucket = -1;
        long next = 0;
        unchecked
        {
            while (next < buckets)
            {
                bucket = next;
                key = (key * 2862933555777941757UL) + 1;
                next = (long)((bucket + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
            }
        }

        return (int)bucket;
    }

    private sealed class JumpPlacement(IReadOnlyList<RingMember> members, int[] buckets) : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => buckets.Length * (long)sizeof(int);

        public int OwnerOf(ulong keyHash) => buckets[Bucket(keyHash, buckets.Length)];

        public int OwnersOf(ulong keyHash, Span<int> owners) =>
            ProbeSequence.Collect(keyHash, owners, members.Count, this);
    }
}
