namespace Dora.Core.Hashing;

/// <summary>
/// Replica selection for policies without a natural successor order: probe <c>i</c> of a key is
/// <c>Mix(keyHash + i * Golden)</c> for <c>i = 1, 2, ...</c> (probe 0 is the key hash itself); owners are collected in
/// probe order, skipping repeats, and after 64 probes the remaining members are taken in index order.
/// </summary>
internal static class ProbeSequence
{
    private const int MaxProbes = 64;

    public static int Collect(ulong keyHash, Span<int> owners, int memberCount, IPlacement placement)
    {
        int wanted = Math.Min(owners.Length, memberCount);
        int filled = 0;
        for (int probe = 0; probe < MaxProbes && filled < wanted; probe++)
        {
            ulong value = probe == 0 ? keyHash : KeyHash.Mix(unchecked(keyHash + ((ulong)probe * KeyHash.Golden)));
            int owner = placement.OwnerOf(value);
            if (!owners[..filled].Contains(owner))
            {
                owners[filled++] = owner;
            }
        }

        for (int member = 0; member < memberCount && filled < wanted; member++)
        {
            if (!owners[..filled].Contains(member))
            {
                owners[filled++] = member;
            }
        }

        return filled;
    }
}
