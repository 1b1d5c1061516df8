using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Dora.Core.Hashing;

/// <summary>
/// Rendezvous or highest-random-weight hashing (Thaler and Ravishankar, 1998): every member scores the key as
/// <c>Mix(h XOR XXH64(utf8(id), seed 0))</c> and the highest score wins; with weights the score is
/// <c>weight / -ln(u)</c> with <c>u</c> the top 53 bits of that value as a fraction in (0, 1). Replicas are the next
/// highest scores. Ideal movement and no table, but a lookup costs O(N).
/// </summary>
public sealed class RendezvousPolicy : IPlacementPolicy
{
    /// <inheritdoc/>
    public string Name => "rendezvous";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        var seeds = new ulong[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            seeds[m] = KeyHash.Of(members[m].Id, 0);
        }

        double[]? weights = Weights.AllEqual(members) ? null : Weights.RelativeToMean(members);
        return new RendezvousPlacement(members, seeds, weights);
    }

    private sealed class RendezvousPlacement(IReadOnlyList<RingMember> members, ulong[] seeds, double[]? weights) : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => seeds.Length * (long)sizeof(ulong) * (weights is null ? 1 : 2);

        public int OwnerOf(ulong keyHash) =>
            weights is null && Vector512.IsHardwareAccelerated ? HighestScoreVectorized(keyHash) : HighestScore(keyHash, 0, 0);

        /// <summary>The member with the highest score from index <paramref name="from"/> on, against a best so far.</summary>
        private int HighestScore(ulong keyHash, int from, ulong bestScore, int best = 0)
        {
            for (int m = from; m < seeds.Length; m++)
            {
                ulong score = Score(keyHash, m);
                if (score > bestScore || m == 0)
                {
                    bestScore = score;
                    best = m;
                }
            }

            return best;
        }

        /// <summary>
        /// The unweighted scores of eight members at a time (AVX-512 has the 64-bit multiply SplitMix64 needs), keeping
        /// each lane's best score and index; the lanes are then reduced with the same tie rule, lowest index first.
        /// </summary>
        private int HighestScoreVectorized(ulong keyHash)
        {
            int lanes = Vector512<ulong>.Count;
            int full = seeds.Length - (seeds.Length % lanes);
            if (full == 0)
            {
                return HighestScore(keyHash, 0, 0);
            }

            ref ulong seedsStart = ref MemoryMarshal.GetArrayDataReference(seeds);
            var key = Vector512.Create(keyHash);
            var bestScores = Vector512<ulong>.Zero;
            var bestIndexes = Vector512<ulong>.Zero;
            var indexes = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            var step = Vector512.Create((ulong)lanes);
            var multiplier1 = Vector512.Create(0xBF58476D1CE4E5B9UL);
            var multiplier2 = Vector512.Create(0x94D049BB133111EBUL);
            // Two independent accumulators per step hide the multiply latency; they are merged before the lane
            // reduction, the lower index winning ties as everywhere else.
            var bestScores2 = Vector512<ulong>.Zero;
            var bestIndexes2 = Vector512<ulong>.Zero;
            var indexes2 = indexes + step;
            var doubleStep = step + step;
            int m = 0;
            for (; m + (2 * lanes) <= full; m += 2 * lanes)
            {
                Vector512<ulong> value = Mix(key ^ Vector512.LoadUnsafe(ref seedsStart, (nuint)m), multiplier1, multiplier2);
                Vector512<ulong> value2 = Mix(key ^ Vector512.LoadUnsafe(ref seedsStart, (nuint)(m + lanes)), multiplier1, multiplier2);
                Vector512<ulong> better = Vector512.GreaterThan(value, bestScores);
                Vector512<ulong> better2 = Vector512.GreaterThan(value2, bestScores2);
                bestScores = Vector512.ConditionalSelect(better, value, bestScores);
                bestIndexes = Vector512.ConditionalSelect(better, indexes, bestIndexes);
                bestScores2 = Vector512.ConditionalSelect(better2, value2, bestScores2);
                bestIndexes2 = Vector512.ConditionalSelect(better2, indexes2, bestIndexes2);
                indexes += doubleStep;
                indexes2 += doubleStep;
            }

            if (m < full)
            {
                Vector512<ulong> value = Mix(key ^ Vector512.LoadUnsafe(ref seedsStart, (nuint)m), multiplier1, multiplier2);
                Vector512<ulong> better = Vector512.GreaterThan(value, bestScores);
                bestScores = Vector512.ConditionalSelect(better, value, bestScores);
                bestIndexes = Vector512.ConditionalSelect(better, indexes, bestIndexes);
            }

            // Lane by lane, accumulator 1 saw lower indexes than accumulator 2 in every step, so on equal scores it wins.
            Vector512<ulong> secondWins = Vector512.GreaterThan(bestScores2, bestScores);
            bestScores = Vector512.ConditionalSelect(secondWins, bestScores2, bestScores);
            bestIndexes = Vector512.ConditionalSelect(secondWins, bestIndexes2, bestIndexes);

            ulong bestScore = bestScores[0];
            int best = (int)bestIndexes[0];
            for (int lane = 1; lane < lanes; lane++)
            {
                ulong score = bestScores[lane];
                int index = (int)bestIndexes[lane];
                if (score > bestScore || (score == bestScore && index < best))
                {
                    bestScore = score;
                    best = index;
                }
            }

            return HighestScore(keyHash, full, bestScore, best);
        }

        public int OwnersOf(ulong keyHash, Span<int> owners)
        {
            int wanted = Math.Min(owners.Length, seeds.Length);
            Span<ulong> scores = wanted <= 64 ? stackalloc ulong[wanted] : new ulong[wanted];
            int filled = 0;
            for (int m = 0; m < seeds.Length; m++)
            {
                ulong score = Score(keyHash, m);
                if (filled == wanted && score <= scores[filled - 1])
                {
                    continue;
                }

                // Insertion into the top-k list, highest score first.
                int at = filled < wanted ? filled++ : filled - 1;
                while (at > 0 && scores[at - 1] < score)
                {
                    scores[at] = scores[at - 1];
                    owners[at] = owners[at - 1];
                    at--;
                }

                scores[at] = score;
                owners[at] = m;
            }

            return filled;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<ulong> Mix(Vector512<ulong> value, Vector512<ulong> multiplier1, Vector512<ulong> multiplier2)
        {
            value = (value ^ (value >>> 30)) * multiplier1;
            value = (value ^ (value >>> 27)) * multiplier2;
            return value ^ (value >>> 31);
        }

        /// <summary>
        /// The member's score as an unsigned integer: the mixed value itself, or the bits of the positive weighted
        /// score, whose unsigned order is the numeric order. Ties go to the lower member index.
        /// </summary>
        private ulong Score(ulong keyHash, int member)
        {
            ulong mixed = KeyHash.Mix(keyHash ^ seeds[member]);
            if (weights is null)
            {
                return mixed;
            }

            double unit = ((mixed >> 11) + 0.5) / (1UL << 53);
            return BitConverter.DoubleToUInt64Bits(weights[member] / -Math.Log(unit));
        }
    }
}
