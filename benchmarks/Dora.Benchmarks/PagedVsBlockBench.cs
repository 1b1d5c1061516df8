using System.Diagnostics;
using Dora.Core.Paths;

namespace Dora.Benchmarks;

/// <summary>
/// Issue 18, part 2: the same engine with 1 MiB pages against 64 MiB pages (what a block store fetches per miss), on
/// positioned reads: 100 KB at a random offset within each 2 MB window of a large file, the windows in file order
/// (the seed's "sequential read with random seeks within 2MB"). Cold (cache emptied, source dropped from the OS page
/// cache when allowed) and warm (the same reads again). Reports time, bytes read from the under storage per byte
/// served, and the speed-up of pages over blocks. The engine's read-ahead is as configured (DORA_READAHEAD pages, 4 by
/// default as on a worker): run with DORA_READAHEAD=0 to see the stores without it.
/// </summary>
internal static class PagedVsBlockBench
{
    private const int SmallPage = 1 << 20;
    private const int BlockPage = 64 << 20;
    private const int WarmRepeats = 20;

    public static async Task RunAsync(string work, long fileLength, int readBytes, int windowBytes)
    {
        string ufs = Path.Combine(work, "ufs-pages");
        string source = Path.Combine(ufs, "big.bin");
        EngineBench.WriteFile(source, fileLength);
        long[] offsets = Offsets(fileLength, readBytes, windowBytes);

        Console.WriteLine($"Paged vs block store: {fileLength >> 20} MiB file, {offsets.Length} reads of {readBytes / 1000} KB, one at a random offset in each {windowBytes >> 10} KiB window, windows in file order");
        Console.WriteLine();
        Console.WriteLine("| pages | pass | seconds | MiB/s served | under-storage bytes per byte served |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
        var results = new Dictionary<(int Page, string Pass), double>();
        foreach (int pageSize in new[] { SmallPage, BlockPage })
        {
            string cache = Path.Combine(work, $"cache-pages-{pageSize >> 20}");
            if (Directory.Exists(cache))
            {
                Directory.Delete(cache, true);
            }

            using var engine = EngineBench.Open(ufs, cache, pageSize, fileLength + (2L * BlockPage));
            bool dropped = Measure.TryDropPageCache();
            foreach (string pass in new[] { "cold", "warm" })
            {
                // A warm pass takes milliseconds: it is repeated and the mean taken.
                int repeats = pass == "cold" ? 1 : WarmRepeats;
                long ufsBefore = engine.Metrics.UfsBytesRead;
                double seconds = 0;
                for (int i = 0; i < repeats; i++)
                {
                    seconds += await PassAsync(engine, offsets, readBytes) / repeats;
                }

                long fetched = (engine.Metrics.UfsBytesRead - ufsBefore) / repeats;
                double served = (double)offsets.Length * readBytes;
                results[(pageSize, pass)] = seconds;
                string label = pass == "cold" && !dropped ? "cold (source in the OS cache)" : pass;
                Console.WriteLine($"| {pageSize >> 20} MiB | {label} | {seconds:F2} | {served / (1 << 20) / seconds:F0} | {fetched / served:F2} |");
                await engine.Pages.WhenIdleAsync(default);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"Speed-up of 1 MiB pages over 64 MiB blocks: cold {results[(BlockPage, "cold")] / results[(SmallPage, "cold")]:F1}x, warm {results[(BlockPage, "warm")] / results[(SmallPage, "warm")]:F1}x");
    }

    // One read per window: windows in file order, the offset inside each drawn with a fixed seed (the same for both stores).
    private static long[] Offsets(long fileLength, int readBytes, int windowBytes)
    {
        var random = new Random(18);
        long windows = fileLength / windowBytes;
        var offsets = new long[windows];
        for (long w = 0; w < windows; w++)
        {
            offsets[w] = (w * windowBytes) + random.NextInt64(windowBytes - readBytes + 1);
        }

        return offsets;
    }

    private static async Task<double> PassAsync(Dora.Worker.Reading.StorageEngine engine, long[] offsets, int readBytes)
    {
        var buffer = new byte[readBytes];
        var watch = Stopwatch.StartNew();
        var file = await engine.OpenAsync(DoraPath.Parse("/big.bin"), default);
        foreach (long offset in offsets)
        {
            int read = await engine.ReadAsync(file, offset, buffer, default);
            if (read != readBytes)
            {
                throw new InvalidOperationException($"read {read} of {readBytes} bytes at {offset}");
            }
        }

        return watch.Elapsed.TotalSeconds;
    }
}
