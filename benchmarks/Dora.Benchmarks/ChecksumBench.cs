using System.Globalization;
using Dora.Client;
using Dora.Worker.Hosting;
using Dora.Worker.Pages;

namespace Dora.Benchmarks;

/// <summary>
/// P16: what checking cached bytes on every read costs. The same hot reads as P1, P3 and P4 against one worker whose
/// page store checks nothing on reads (the baseline), checks blocks on copied reads and change times on zero-copy sends
/// (the default), or checks blocks on both; each once with page-sized frames sent by sendfile and once copied.
/// </summary>
internal static class ChecksumBench
{
    public static async Task RunAsync(string work, long fileLength, TimeSpan duration, int rounds)
    {
        string root = Path.Combine(work, "checksums");
        string ufs = Path.Combine(root, "ufs");
        EngineBench.WriteFile(Path.Combine(ufs, "big.bin"), fileLength);
        Console.WriteLine($"P16: checks on hot reads of a {fileLength >> 20} MiB file; each phase {duration.TotalSeconds:0} s; {rounds} rounds, the configurations interleaved; medians; worker and client on loopback");
        (string Path, int Threshold, ReadCheck Check)[] configurations =
        [
            ("sendfile", 256 << 10, ReadCheck.None),
            ("sendfile", 256 << 10, ReadCheck.Blocks),
            ("sendfile", 256 << 10, ReadCheck.BlocksAlways),
            ("copy", int.MaxValue, ReadCheck.None),
            ("copy", int.MaxValue, ReadCheck.Blocks),
        ];
        var runs = configurations.Select(_ => new List<HotReads>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int c = 0; c < configurations.Length; c++)
            {
                var (_, threshold, check) = configurations[c];
                runs[c].Add(await MeasureAsync(root, ufs, fileLength, duration, threshold, check, keepCache: round + c > 0));
            }
        }

        Console.WriteLine();
        Console.WriteLine(Measure.Row("path", "checks", "P1 4 in flight MiB/s", "P3 1 MiB x16 MiB/s", "P4 4 KiB x16 IOPS", "P4 100 KiB x16 IOPS", "P4 4 KiB x1 p50 µs"));
        Console.WriteLine(Measure.Row("---", "---", "---:", "---:", "---:", "---:", "---:"));
        HotReads? baseline = null;
        for (int c = 0; c < configurations.Length; c++)
        {
            HotReads median = HotReads.Median(runs[c]);
            if (configurations[c].Check == ReadCheck.None)
            {
                baseline = median;
            }

            Console.WriteLine(Measure.Row(configurations[c].Path, configurations[c].Check.ToString(),
                Cell(median.Sequential, baseline!.Sequential), Cell(median.Random1M, baseline.Random1M),
                Cell(median.Iops4K, baseline.Iops4K), Cell(median.Iops100K, baseline.Iops100K), Cell(median.P50Us4K, baseline.P50Us4K)));
        }

        Console.WriteLine();
        Console.WriteLine("Each cell: the median, then its ratio to the same path with no checks (P16 target: throughput >= 0.90, latency <= 1.10).");
        Console.WriteLine("Every round, P1 / P4 4 KiB x16 ratio to the same round's unchecked run:");
        for (int c = 0; c < configurations.Length; c++)
        {
            int none = configurations[c].Path == "sendfile" ? 0 : 3;
            string ratios = string.Join(", ", runs[c].Select((f, i) => string.Create(CultureInfo.InvariantCulture, $"{f.Sequential / runs[none][i].Sequential:0.00} / {f.Iops4K / runs[none][i].Iops4K:0.00}")));
            Console.WriteLine($"  {configurations[c].Path} {configurations[c].Check}: {ratios}");
        }
    }

    private static async Task<HotReads> MeasureAsync(string root, string ufs, long fileLength, TimeSpan duration, int threshold, ReadCheck check, bool keepCache)
    {
        await using LocalCluster cluster = await StreamBench.StartWorkerAsync(root, ufs, fileLength, threshold, check, keepCache);
        await using DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false });

        // A restarted store checks each page whole on its first read: the warm-up of the measurement does that.
        return await HotReads.MeasureAsync(cluster, client, fileLength, duration);
    }

    private static string Cell(double value, double baseline) =>
        string.Create(CultureInfo.InvariantCulture, $"{value:0} ({value / baseline:0.00})");

}
