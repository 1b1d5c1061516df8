namespace Dora.Core.Hashing;

/// <summary>
/// An immutable lookup structure built by one <see cref="IPlacementPolicy"/> for one membership. Members are
/// identified by their index in <see cref="Members"/>, which is sorted by id (ordinal), so every process that sees the
/// same membership builds the same placement.
/// </summary>
public interface IPlacement
{
    /// <summary>The members, sorted by id (ordinal).</summary>
    IReadOnlyList<RingMember> Members { get; }

    /// <summary>The index of the member that owns a key hash (see <see cref="KeyHash.OfPath"/>).</summary>
    int OwnerOf(ulong keyHash);

    /// <summary>
    /// Writes up to <c>owners.Length</c> distinct member indexes in preference order; the first is always
    /// <see cref="OwnerOf"/>. Returns how many were written (fewer only when there are fewer members).
    /// </summary>
    int OwnersOf(ulong keyHash, Span<int> owners);

    /// <summary>Approximate heap bytes held by the lookup structure.</summary>
    long MemoryBytes { get; }
}
