namespace Dora.Core.Hashing;

/// <summary>A worker location policy: builds the <see cref="IPlacement"/> for a membership.</summary>
public interface IPlacementPolicy
{
    /// <summary>The policy's name as written in options and on the command line (for example <c>maglev</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Builds the placement for <paramref name="members"/>, which must be non-empty, have distinct ids, and be sorted
    /// by id (ordinal); <see cref="HashRing"/> takes care of that.
    /// </summary>
    IPlacement Build(IReadOnlyList<RingMember> members);
}
