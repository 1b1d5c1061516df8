namespace Dora.Core.Hashing;

/// <summary>
/// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size <c>M</c> filled round-robin from each
/// member's permutation <c>(offset + j * skip) mod M</c>, with <c>offset = XXH64(id, seed 1) mod M</c> and
/// <c>skip = XXH64(id, seed 2) mod (M - 1) + 1</c>. Every member gets <c>M / N</c> entries give or take one (weighted
/// members take proportionally more turns), and a lookup is one multiply and one array read.
/// </summary>
public sealed class MaglevPolicy : IPlacementPolicy
{
    /// <summary>Table size used unless another is given: prime, and over 100 entries per member up to 10,000 members.</summary>
    public const int DefaultTableSize = 1_048_573;

    /// <summary>Creates the policy.</summary>
    /// <param name="tableSize">
    /// The lookup table size, a prime. It is fixed rather than derived from the member count because changing it
    /// re-deals every entry; the paper keeps it above 100 entries per member for balance within about 1%.
    /// </param>
    public MaglevPolicy(int tableSize = DefaultTableSize)
    {
        if (tableSize < 3 || !IsPrime(tableSize))
        {
            throw new ArgumentOutOfRangeException(nameof(tableSize), tableSize, "The Maglev table size must be a prime of at least 3.");
        }

        TableSize = tableSize;
    }

    /// <summary>The lookup table size.</summary>
    public int TableSize { get; }

    /// <inheritdoc/>
    public string Name => "maglev";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        int size = TableSize;
        int n = members.Count;
        var offset = new long[n];
        var skip = new long[n];
        var next = new long[n];
        for (int m = 0; m < n; m++)
        {
            offset[m] = (long)(KeyHash.Of(members[m].Id, 1) % (ulong)size);
            skip[m] = (long)(KeyHash.Of(members[m].Id, 2) % (ulong)(size - 1)) + 1;
        }

        // Weighted turns: in each pass a member earns weight / max weight of a turn and fills one entry per whole turn,
        // so equal weights reduce to the paper's plain round robin.
        double maxWeight = 0;
        for (int m = 0; m < n; m++)
        {
            maxWeight = Math.Max(maxWeight, members[m].Weight);
        }

        var credit = new double[n];
        var table = new int[size];
        Array.Fill(table, -1);
        int filled = 0;
        while (filled < size)
        {
            for (int m = 0; m < n && filled < size; m++)
            {
                credit[m] += members[m].Weight / maxWeight;
                while (credit[m] >= 1 && filled < size)
                {
                    credit[m] -= 1;
                    long slot;
                    do
                    {
                        slot = (offset[m] + (next[m] * skip[m])) % size;
                        next[m]++;
                    }
                    while (table[slot] >= 0);

                    table[slot] = m;
                    filled++;
                }
            }
        }

        return new MaglevPlacement(members, table);
    }

    private static bool IsPrime(int value)
    {
        for (int d = 2; (long)d * d <= value; d++)
        {
            if (value % d == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Entry <c>floor(h * M / 2^64)</c>; replicas are the next distinct members in the table.</summary>
    private sealed class MaglevPlacement(IReadOnlyList<RingMember> members, int[] table) : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => table.Length * (long)sizeof(int);

        public int OwnerOf(ulong keyHash) => table[KeyHash.Reduce(keyHash, table.Length)];

        public int OwnersOf(ulong keyHash, Span<int> owners)
        {
            int wanted = Math.Min(owners.Length, members.Count);
            int index = KeyHash.Reduce(keyHash, table.Length);
            int filled = 0;
            for (int step = 0; step < table.Length && filled < wanted; step++)
            {
                int owner = table[index];
                if (!owners[..filled].Contains(owner))
                {
                    owners[filled++] = owner;
                }

                index = index + 1 == table.Length ? 0 : index + 1;
            }

            return filled;
        }
    }
}
