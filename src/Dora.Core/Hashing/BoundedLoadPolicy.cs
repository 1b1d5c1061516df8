namespace Dora.Core.Hashing;

/// <summary>
/// Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018), made stateless so every process
/// computes the same answer: the key space is cut into <c>2^SlotBits</c> slots (a key's slot is its top bits); slot
/// <c>s</c>, in increasing order, starts at ring position <c>Mix(s)</c> on a virtual-node ring and goes to the first
/// member clockwise that holds fewer than <c>ceil((1 + Epsilon) * slots * weight share)</c> slots. No member exceeds
/// its bound, a lookup is one array read, and movement grows as the bound tightens.
/// </summary>
public sealed class BoundedLoadPolicy : IPlacementPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="epsilon">Allowed overload over a member's fair share of slots; 0.05 by default.</param>
    /// <param name="slotBits">log2 of the slot count; 20 by default (about 1000 slots per member at 1000 members).</param>
    /// <param name="virtualNodes">Points per member of mean weight on the underlying ring; 64 by default.</param>
    public BoundedLoadPolicy(double epsilon = 0.05, int slotBits = 20, int virtualNodes = 64)
    {
        if (!double.IsFinite(epsilon) || epsilon <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "The bounded-load epsilon must be greater than 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(slotBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotBits, 26);
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodes, 1);
        Epsilon = epsilon;
        SlotBits = slotBits;
        VirtualNodes = virtualNodes;
    }

    /// <summary>Allowed overload over a member's fair share of slots.</summary>
    public double Epsilon { get; }

    /// <summary>log2 of the slot count.</summary>
    public int SlotBits { get; }

    /// <summary>Points per member of mean weight on the underlying ring.</summary>
    public int VirtualNodes { get; }

    /// <inheritdoc/>
    public string Name => "bounded-load";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        double[] weights = Weights.RelativeToMean(members);
        var ring = PointRing.WithVirtualNodes(members, VirtualNodes);
        int slots = 1 << SlotBits;
        var capacity = new int[members.Count];
        for (int m = 0; m < members.Count; m++)
        {
            capacity[m] = (int)Math.Ceiling((1 + Epsilon) * slots * weights[m] / members.Count);
        }

        var load = new int[members.Count];
        var table = new int[slots];
        for (int s = 0; s < slots; s++)
        {
            int point = ring.Successor(KeyHash.Mix((ulong)s));
            while (load[ring.OwnerAt(point)] >= capacity[ring.OwnerAt(point)])
            {
                point = ring.Next(point);
            }

            int owner = ring.OwnerAt(point);
            load[owner]++;
            table[s] = owner;
        }

        return new BoundedLoadPlacement(members, table, SlotBits, ring);
    }

    /// <summary>Owner from the slot table; replicas continue clockwise on the ring from the slot's position.</summary>
    private sealed class BoundedLoadPlacement(IReadOnlyList<RingMember> members, int[] table, int slotBits, PointRing ring) : IPlacement
    {
        public IReadOnlyList<RingMember> Members => members;

        public long MemoryBytes => (table.Length * (long)sizeof(int)) + ring.MemoryBytes;

        public int OwnerOf(ulong keyHash) => table[(int)(keyHash >> (64 - slotBits))];

        public int OwnersOf(ulong keyHash, Span<int> owners)
        {
            if (owners.IsEmpty)
            {
                return 0;
            }

            int slot = (int)(keyHash >> (64 - slotBits));
            owners[0] = table[slot];
            return ring.CollectDistinct(ring.Successor(KeyHash.Mix((ulong)slot)), owners, 1, members.Count);
        }
    }
}
