using Dora.Core.Errors;

namespace Dora.Core.Hashing;

/// <summary>
/// Who owns a path, for one membership and one policy. Immutable: a membership change builds a new ring. Members are
/// sorted by id and checked (distinct ids, positive weights), so every process that sees the same members agrees.
/// </summary>
public sealed class HashRing
{
    private readonly IPlacement? _placement;
    private readonly IPathPlacement? _pathPlacement;

    private HashRing(IPlacementPolicy policy, IReadOnlyList<RingMember> members, IPlacement? placement)
    {
        Policy = policy;
        Members = members;
        _placement = placement;
        _pathPlacement = placement as IPathPlacement;
    }

    /// <summary>The policy that built this ring.</summary>
    public IPlacementPolicy Policy { get; }

    /// <summary>The members, sorted by id (ordinal).</summary>
    public IReadOnlyList<RingMember> Members { get; }

    /// <summary>True when there is no member, so no path has an owner.</summary>
    public bool IsEmpty => _placement is null;

    /// <summary>Approximate heap bytes of the lookup structure.</summary>
    public long MemoryBytes => _placement?.MemoryBytes ?? 0;

    /// <summary>Builds the ring of <paramref name="members"/> (any order) with <paramref name="policy"/>.</summary>
    /// <exception cref="ArgumentException">Two members share an id, or a weight is not positive.</exception>
    public static HashRing Build(IEnumerable<RingMember> members, IPlacementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(policy);
        var sorted = new List<RingMember>(members);
        foreach (RingMember member in sorted)
        {
            member.Validate();
        }

        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        for (int i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].Id == sorted[i - 1].Id)
            {
                throw new ArgumentException($"Worker id '{sorted[i].Id}' appears twice in the membership.", nameof(members));
            }
        }

        RingMember[] frozen = [.. sorted];
        return new HashRing(policy, frozen, frozen.Length == 0 ? null : policy.Build(frozen));
    }

    /// <summary>The placement value of a path: its XXH64 hash, or the policy's own hash where it has one (Ketama).</summary>
    public ulong PositionOf(string path) => _pathPlacement?.PositionOfPath(path) ?? KeyHash.OfPath(path);

    /// <summary>The index in <see cref="Members"/> of the owner of a placement value (see <see cref="PositionOf"/>).</summary>
    /// <exception cref="NoWorkersException">The ring is empty.</exception>
    public int OwnerIndexAt(ulong position) => Placement.OwnerOf(position);

    /// <summary>The index in <see cref="Members"/> of the path's owner.</summary>
    /// <exception cref="NoWorkersException">The ring is empty.</exception>
    public int OwnerIndexOf(string path) => Placement.OwnerOf(PositionOf(path));

    /// <summary>The path's owner.</summary>
    /// <exception cref="NoWorkersException">The ring is empty.</exception>
    public RingMember OwnerOf(string path) => Members[OwnerIndexOf(path)];

    /// <summary>
    /// Writes the indexes of up to <c>owners.Length</c> distinct owners of the path, primary first, in a stable order;
    /// returns how many.
    /// </summary>
    public int OwnersOf(string path, Span<int> owners) => Placement.OwnersOf(PositionOf(path), owners);

    /// <summary>The <paramref name="count"/> distinct owners of the path (fewer if there are fewer members), primary first.</summary>
    public IReadOnlyList<RingMember> OwnersOf(string path, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var indexes = new int[Math.Min(count, Members.Count)];
        int found = OwnersOf(path, indexes);
        var owners = new RingMember[found];
        for (int i = 0; i < found; i++)
        {
            owners[i] = Members[indexes[i]];
        }

        return owners;
    }

    /// <summary>
    /// Each member's share of the key space, measured over <paramref name="samples"/> positions spread evenly across
    /// the 64-bit circle (exact for table policies, a close estimate for the others). Indexed like <see cref="Members"/>.
    /// </summary>
    public double[] KeyShares(int samples = 1 << 18)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var shares = new double[Members.Count];
        if (_placement is null)
        {
            return shares;
        }

        ulong step = ulong.MaxValue / (ulong)samples;
        for (int i = 0; i < samples; i++)
        {
            shares[_placement.OwnerOf((ulong)i * step + (step / 2))]++;
        }

        for (int m = 0; m < shares.Length; m++)
        {
            shares[m] /= samples;
        }

        return shares;
    }

    private IPlacement Placement => _placement ?? throw new NoWorkersException();
}
