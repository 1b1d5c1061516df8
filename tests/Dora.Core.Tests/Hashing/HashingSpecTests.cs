using System.Globalization;
using Dora.Core.Hashing;
using Dora.TestSupport;

namespace Dora.Core.Tests.Hashing;

/// <summary>Checks the implementation against the test vectors that docs/hashing.md publishes for other languages.</summary>
public class HashingSpecTests
{
    private static readonly string[] DocLines = File.ReadAllLines(RepositoryFiles.PathOf("docs/hashing.md"));

    private static string[] Cells(string line) =>
        [.. line.Trim().Trim('|').Split('|').Select(cell => cell.Trim().Trim('`'))];

    [Fact]
    public void Xxh64_vectors_in_the_docs_match_and_include_the_reference_values()
    {
        var rows = DocLines.Where(l => l.StartsWith("| `", StringComparison.Ordinal) && Cells(l).Length == 3).ToList();
        Assert.True(rows.Count >= 5, "docs/hashing.md lists no XXH64 vectors");
        foreach (string row in rows)
        {
            string[] cells = Cells(row);
            ulong expected = ulong.Parse(cells[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            Assert.Equal(expected, KeyHash.Of(cells[0], ulong.Parse(cells[1], CultureInfo.InvariantCulture)));
        }

        // The xxHash project's own reference values, so the docs cannot drift from XXH64 itself.
        Assert.Equal(0xEF46DB3751D8E999UL, KeyHash.Of(string.Empty, 0));
        Assert.Equal(0x44BC2CF5AD770999UL, KeyHash.Of("abc", 0));
        Assert.Equal(0x5692161D100B05E5UL, KeyHash.Mix(1));
        Assert.Equal(0x514E28B7u, KeyHash.Fmix32(1));
        Assert.Equal(0x88888888u, KeyHash.Fold(0x0123456789ABCDEFUL));
    }

    [Fact]
    public void Every_policy_gives_the_owners_the_docs_publish()
    {
        RingMember[] members = [new("worker-a"), new("worker-b"), new("worker-c"), new("worker-d"), new("worker-e")];
        RingMember[] weighted = [.. members.Select(m => m.Id == "worker-c" ? m with { Weight = 3 } : m)];
        var rows = DocLines
            .Select(Cells)
            .Where(cells => cells.Length == 5 && PlacementPolicies.Names.Contains(cells[0]))
            .ToList();
        Assert.Equal(PlacementPolicies.Names.Count * 8, rows.Count);
        foreach (string[] cells in rows)
        {
            IPlacementPolicy policy = PlacementPolicies.Create(cells[0]);
            HashRing ring = HashRing.Build(members, policy);
            string path = cells[1];
            Assert.Equal(cells[2], ring.OwnerOf(path).Id);
            Assert.Equal(cells[3], string.Join(", ", ring.OwnersOf(path, 3).Select(m => m.Id)));
            Assert.Equal(cells[4], HashRing.Build(weighted, policy).OwnerOf(path).Id);
        }
    }
}
