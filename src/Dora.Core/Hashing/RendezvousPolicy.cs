using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dora.Core.Hashing;

/// <summary>
/// Rendezvous or highest-random-weight hashing (Thaler and Ravishankar, 1998): member <c>m</c> scores a key as
/// <c>Fmix32(Fold(h) XOR Fold(XXH64(utf8(id), seed 0)))</c> and the highest score wins, the lower member index on a tie;
/// with weights the score is <c>rw(m) / -ln((score + 0.5) / 2^32)</c>. Replicas are the next highest scores.
/// Ideal balance and movement with no table; a lookup is O(N), computed on whole SIMD vectors of 32-bit scores (32-bit
/// multiplies are native to AVX2, AVX-512 and NEON alike).
/// </summary>
public sealed class RendezvousPolicy : IPlacementPolicy
{
    /// <inheritdoc/>
    public string Name => "rendezvous";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        var seeds = new uint[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            seeds[m] = KeyHash.Fold(KeyHash.Of(members[m].Id, 0));
        }

        double[]? weights = Weights.AllEqual(members) ? null : Weights.RelativeToMean(members);
        return new RendezvousPlacement(members, seeds, weights);
    }

    private sealed class RendezvousPlacement(IReadOnlyList<RingMember> members, uint[] seeds, double[]? weights) : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => seeds.Length * ((long)sizeof(uint) + (weights is null ? 0 : sizeof(double)));

        public int OwnerOf(ulong keyHash)
        {
            uint key = KeyHash.Fold(keyHash);
            return weights is null && Vector.IsHardwareAccelerated ? HighestScoreVectorized(key) : HighestScore(key, 0, 0, 0);
        }

        /// <summary>The member with the highest score from index <paramref name="from"/> on, against a best so far.</summary>
        private int HighestScore(uint key, int from, ulong bestScore, int best)
        {
            for (int m = from; m < seeds.Length; m++)
            {
                ulong score = Score(key, m);
                if (score > bestScore || m == 0)
                {
                    bestScore = score;
                    best = m;
                }
            }

            return best;
        }

        /// <summary>
        /// Unweighted scores a whole vector of members at a time, two vectors per step so the multiplies overlap; each
        /// lane keeps its best score and index, and the lanes are reduced with the same tie rule (lower index wins).
        /// </summary>
        private int HighestScoreVectorized(uint key)
        {
            int lanes = Vector<uint>.Count;
            int full = seeds.Length - (seeds.Length % lanes);
            if (full == 0)
            {
                return HighestScore(key, 0, 0, 0);
            }

            ReadOnlySpan<Vector<uint>> vectors = MemoryMarshal.Cast<uint, Vector<uint>>(seeds.AsSpan(0, full));
            var keys = new Vector<uint>(key);
            var step = new Vector<uint>((uint)lanes);
            Vector<uint> indexes = Vector<uint>.Indices;
            Vector<uint> indexes2 = indexes + step;
            Vector<uint> doubleStep = step + step;
            Vector<uint> best = Vector<uint>.Zero, bestIndexes = Vector<uint>.Zero;
            Vector<uint> best2 = Vector<uint>.Zero, bestIndexes2 = Vector<uint>.Zero;
            int v = 0;
            for (; v + 1 < vectors.Length; v += 2)
            {
                Vector<uint> score = Fmix(keys ^ vectors[v]);
                Vector<uint> score2 = Fmix(keys ^ vectors[v + 1]);
                Vector<uint> better = Vector.GreaterThan(score, best);
                Vector<uint> better2 = Vector.GreaterThan(score2, best2);
                best = Vector.ConditionalSelect(better, score, best);
                bestIndexes = Vector.ConditionalSelect(better, indexes, bestIndexes);
                best2 = Vector.ConditionalSelect(better2, score2, best2);
                bestIndexes2 = Vector.ConditionalSelect(better2, indexes2, bestIndexes2);
                indexes += doubleStep;
                indexes2 += doubleStep;
            }

            if (v < vectors.Length)
            {
                Vector<uint> score = Fmix(keys ^ vectors[v]);
                Vector<uint> better = Vector.GreaterThan(score, best);
                best = Vector.ConditionalSelect(better, score, best);
                bestIndexes = Vector.ConditionalSelect(better, indexes, bestIndexes);
            }

            // Lane by lane, the first accumulator always saw the lower indexes, so it keeps equal scores.
            Vector<uint> secondWins = Vector.GreaterThan(best2, best);
            best = Vector.ConditionalSelect(secondWins, best2, best);
            bestIndexes = Vector.ConditionalSelect(secondWins, bestIndexes2, bestIndexes);

            uint bestScore = best[0];
            int bestIndex = (int)bestIndexes[0];
            for (int lane = 1; lane < lanes; lane++)
            {
                uint score = best[lane];
                int index = (int)bestIndexes[lane];
                if (score > bestScore || (score == bestScore && index < bestIndex))
                {
                    bestScore = score;
                    bestIndex = index;
                }
            }

            return HighestScore(key, full, bestScore, bestIndex);
        }

        public int OwnersOf(ulong keyHash, Span<int> owners)
        {
            uint key = KeyHash.Fold(keyHash);
            int wanted = Math.Min(owners.Length, seeds.Length);
            Span<ulong> scores = wanted <= 64 ? stackalloc ulong[wanted] : new ulong[wanted];
            int filled = 0;
            for (int m = 0; m < seeds.Length; m++)
            {
                ulong score = Score(key, m);
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

        /// <summary>
        /// The member's score, comparable as an unsigned integer: the 32-bit score itself, or the bits of the positive
        /// weighted score (whose unsigned order is the numeric order).
        /// </summary>
        private ulong Score(uint key, int member)
        {
            uint score = KeyHash.Fmix32(key ^ seeds[member]);
            if (weights is null)
            {
                return score;
            }

            double unit = (score + 0.5) / 4294967296.0;
            return BitConverter.DoubleToUInt64Bits(weights[member] / -Math.Log(unit));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<uint> Fmix(Vector<uint> value)
        {
            value ^= Vector.ShiftRightLogical(value, 16);
            value *= 0x85EBCA6Bu;
            value ^= Vector.ShiftRightLogical(value, 13);
            value *= 0xC2B2AE35u;
            return value ^ Vector.ShiftRightLogical(value, 16);
        }
    }
}
