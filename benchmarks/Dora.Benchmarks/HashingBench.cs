using System.Diagnostics;
using System.Globalization;
using Dora.Core.Hashing;

namespace Dora.Benchmarks;

/// <summary>
/// P7: every placement policy at several cluster sizes over millions of keys. The baseline is the ideal uniform split
/// (every worker holds keys/N; a join moves 1/(N+1) of the keys, a leave 1/N), so the table reports peak/mean load,
/// relative standard deviation, and moved keys as a multiple of the ideal.
/// </summary>
internal static class HashingBench
{
    public static void Run(int keyCount, int[] clusterSizes, IReadOnlyList<string> policies)
    {
        Console.WriteLine($"P7 hashing: {keyCount:N0} keys '/lake/events/date=.../part-NNNNNNNN.parquet'; ideal: peak/mean 1.000, moved = 1/(N+1) on join, 1/N on leave");
        var paths = new string[keyCount];
        var hashes = new ulong[keyCount];
        Parallel.For(0, keyCount, i =>
        {
            paths[i] = string.Create(CultureInfo.InvariantCulture, $"/lake/events/date=2026-{(i % 12) + 1:D2}-{(i % 28) + 1:D2}/part-{i:D8}.parquet");
            hashes[i] = KeyHash.OfPath(paths[i]);
        });
        ulong[]? ketamaPositions = null;

        Console.WriteLine(Measure.Row("policy", "N", "peak/mean", "stddev/mean", "moved on join (x ideal)", "moved on leave (x ideal)", "lookup ns (hash given)", "lookup ns (from path)", "build ms", "memory"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"));
        foreach (string name in policies)
        {
            IPlacementPolicy policy = PlacementPolicies.Create(name);
            ulong[] keys = hashes;
            if (name == "ketama")
            {
                ketamaPositions ??= KetamaPositions(paths);
                keys = ketamaPositions;
            }

            foreach (int n in clusterSizes)
            {
                RunOne(policy, n, keys, paths);
            }
        }
    }

    private static void RunOne(IPlacementPolicy policy, int n, ulong[] keys, string[] paths)
    {
        List<RingMember> members = Members(n);
        var build = Stopwatch.StartNew();
        HashRing ring = HashRing.Build(members, policy);
        double buildMs = build.Elapsed.TotalMilliseconds;
        int[] owners = Owners(ring, keys);

        // Loads per member id, then balance against the ideal keys / N.
        var load = new long[n];
        foreach (int owner in owners)
        {
            load[owner]++;
        }

        double mean = (double)keys.Length / n;
        double peak = load.Max() / mean;
        double variance = load.Sum(l => (l - mean) * (l - mean)) / n;
        double relativeStdDev = Math.Sqrt(variance) / mean;

        // A join adds a fresh id; a leave removes the member that joined in the middle of the cluster's history.
        var joined = new List<RingMember>(members) { new(WorkerId(n + 1_000_000)) };
        double movedJoin = Moved(ring, owners, HashRing.Build(joined, policy), keys) * (n + 1);
        var left = new List<RingMember>(members);
        left.RemoveAt(n / 2);
        double movedLeave = Moved(ring, owners, HashRing.Build(left, policy), keys) * n;

        double hashGivenNs = TimeLookups(ring, keys);
        double fromPathNs = TimePathLookups(ring, paths);
        Console.WriteLine(Measure.Row(policy.Name, n, peak.ToString("0.000", CultureInfo.InvariantCulture),
            relativeStdDev.ToString("0.0000", CultureInfo.InvariantCulture),
            movedJoin.ToString("0.00", CultureInfo.InvariantCulture), movedLeave.ToString("0.00", CultureInfo.InvariantCulture),
            hashGivenNs.ToString("0.0", CultureInfo.InvariantCulture), fromPathNs.ToString("0.0", CultureInfo.InvariantCulture),
            buildMs.ToString("0.0", CultureInfo.InvariantCulture), FormatBytes(ring.MemoryBytes)));
    }

    /// <summary>Deterministic ids shaped like generated worker ids, so id order is unrelated to join order.</summary>
    private static string WorkerId(int index) =>
        "w-" + KeyHash.Of(index.ToString(CultureInfo.InvariantCulture), 42).ToString("x16", CultureInfo.InvariantCulture);

    private static List<RingMember> Members(int n)
    {
        var members = new List<RingMember>(n);
        for (int i = 0; i < n; i++)
        {
            members.Add(new RingMember(WorkerId(i)));
        }

        return members;
    }

    /// <summary>Owner of every key as a member id index into a per-ring array (computed on both cores).</summary>
    private static int[] Owners(HashRing ring, ulong[] keys)
    {
        var owners = new int[keys.Length];
        HashRing placement = ring;
        Parallel.For(0, Environment.ProcessorCount, part =>
        {
            int from = (int)((long)keys.Length * part / Environment.ProcessorCount);
            int to = (int)((long)keys.Length * (part + 1) / Environment.ProcessorCount);
            for (int i = from; i < to; i++)
            {
                owners[i] = placement.OwnerIndexAt(keys[i]);
            }
        });
        return owners;
    }

    /// <summary>Fraction of keys whose owner (by id) differs between two rings.</summary>
    private static double Moved(HashRing before, int[] ownersBefore, HashRing after, ulong[] keys)
    {
        int[] ownersAfter = Owners(after, keys);
        long moved = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (!ReferenceEquals(before.Members[ownersBefore[i]].Id, after.Members[ownersAfter[i]].Id))
            {
                moved++;
            }
        }

        return (double)moved / keys.Length;
    }

    private static double TimeLookups(HashRing ring, ulong[] keys)
    {
        int count = Math.Min(keys.Length, 2_000_000);
        long sink = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            sink += ring.OwnerIndexAt(keys[i]);
        }

        double ns = watch.Elapsed.TotalNanoseconds / count;
        GC.KeepAlive(sink);
        return ns;
    }

    private static double TimePathLookups(HashRing ring, string[] paths)
    {
        int count = Math.Min(paths.Length, 1_000_000);
        long sink = 0;
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            sink += ring.OwnerIndexOf(paths[i]);
        }

        double ns = watch.Elapsed.TotalNanoseconds / count;
        GC.KeepAlive(sink);
        return ns;
    }

    private static ulong[] KetamaPositions(string[] paths)
    {
        var positions = new ulong[paths.Length];
        Parallel.For(0, paths.Length, i => positions[i] = (ulong)KetamaPolicy.PositionOf(paths[i]) << 32);
        return positions;
    }

    private static string FormatBytes(long bytes) => bytes >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB");
}
