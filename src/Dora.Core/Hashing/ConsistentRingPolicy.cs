namespace Dora.Core.Hashing;

/// <summary>
/// The classic consistent-hash ring with virtual nodes (Karger et al.): member <c>m</c> places points
/// <c>XXH64(utf8(m.id), seed = r)</c> for <c>r = 0 .. count-1</c>, where <c>count</c> is
/// <see cref="VirtualNodes"/> scaled by the member's relative weight; a key belongs to the first point at or after its
/// hash. Balance improves only as 1/sqrt(virtual nodes), so it needs many points per member.
/// </summary>
public sealed class ConsistentRingPolicy : IPlacementPolicy
{
    /// <summary>Creates the policy.</summary>
    /// <param name="virtualNodes">Points per member of mean weight; 256 by default (see <c>docs/hashing.md</c>).</param>
    public ConsistentRingPolicy(int virtualNodes = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodes, 1);
        VirtualNodes = virtualNodes;
    }

    /// <summary>Points per member of mean weight.</summary>
    public int VirtualNodes { get; }

    /// <inheritdoc/>
    public string Name => "ring";

    /// <inheritdoc/>
    public IPlacement Build(IReadOnlyList<RingMember> members)
    {
        return new RingPlacement(members, PointRing.WithVirtualNodes(members, VirtualNodes));
    }
}

/// <summary>Placement on a <see cref="PointRing"/>: the owner of the first point at or after the key's hash.</summary>
internal sealed class RingPlacement(IReadOnlyList<RingMember> members, PointRing ring) : IPlacement
{
    public IReadOnlyList<RingMember> Members => members;

    public long MemoryBytes => ring.MemoryBytes;

    public int OwnerOf(ulong keyHash) => ring.OwnerAt(ring.Successor(keyHash));

    public int OwnersOf(ulong keyHash, Span<int> owners) =>
        owners.IsEmpty ? 0 : ring.CollectDistinct(ring.Successor(keyHash), owners, 0, members.Count);
}
