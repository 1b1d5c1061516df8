namespace Dora.Core.Hashing;

/// <summary>
/// Multi-probe consistent hashing (Appleton and O'Reilly, 2015): each member has one point,
/// <c>XXH64(utf8(id), seed 0)</c>, and a key is probed <see cref="Probes"/> times at
/// <c>Mix(h + i * Golden)</c>; the member whose point follows a probe most closely (distance divided by relative
/// weight) owns the key. One point per member keeps memory at O(N); balance comes from the probes.
/// </summary>
public sealed class MultiProbePolicy : IPlacementPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="probes">Probes per lookup; 21 by default, the paper's choice for a peak-to-mean of about 1.05.</param>
    public MultiProbePolicy(int probes = 21)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probes, 1);
        Probes = probes;
    }

    /// <summary>Probes per lookup.</summary>
    public int Probes { get; }

    /// <inheritdoc/>
    public string Name => "multi-probe";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        var points = new List<(ulong, int)>(members.Count);
        for (int m = 0; m < members.Count; m++)
        {
            points.Add((KeyHash.Of(members[m].Id, 0), m));
        }

        double[]? inverseWeights = null;
        if (!Weights.AllEqual(members))
        {
            double[] weights = Weights.RelativeToMean(members);
            inverseWeights = new double[weights.Length];
            for (int m = 0; m < weights.Length; m++)
            {
                inverseWeights[m] = 1 / weights[m];
            }
        }

        return new MultiProbePlacement(members, new PointRing(points), Probes, inverseWeights);
    }

    private sealed class MultiProbePlacement(IReadOnlyList<RingMember> members, PointRing ring, int probes, double[]? inverseWeights)
        : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => ring.MemoryBytes + ((inverseWeights?.Length ?? 0) * sizeof(double));

        public int OwnerOf(ulong keyHash) => ring.OwnerAt(ClosestPoint(keyHash));

        public int OwnersOf(ulong keyHash, Span<int> owners) =>
            owners.IsEmpty ? 0 : ring.CollectDistinct(ClosestPoint(keyHash), owners, 0, members.Count);

        /// <summary>The point that follows one of the key's probes most closely.</summary>
        private int ClosestPoint(ulong keyHash)
        {
            int best = 0;
            double bestDistance = double.MaxValue;
            for (int i = 0; i < probes; i++)
            {
                ulong probe = KeyHash.Mix(unchecked(keyHash + ((ulong)i * KeyHash.Golden)));
                int point = ring.Successor(probe);
                ulong gap = unchecked(ring.PositionAt(point) - probe);
                double distance = inverseWeights is null ? gap : gap * inverseWeights[ring.OwnerAt(point)];
                if (distance < bestDistance)
                {
                    bestDistance = distance;
                    best = point;
                }
            }

            return best;
        }
    }
}
