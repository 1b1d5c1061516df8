using Dora.Client;
using Dora.Worker.Hosting;

namespace Dora.Benchmarks;

/// <summary>
/// The hot-read figures P16 and the TLS benchmark compare between configurations of one worker: sequential 1 MiB reads
/// with 4 in flight, random 1 MiB reads by 16 loops, random 4 KiB and 100 KiB reads by 16 loops, and the p50 latency of
/// 4 KiB reads one at a time.
/// </summary>
internal sealed record HotReads(double Sequential, double Random1M, double Iops4K, double Iops100K, double P50Us4K)
{
    /// <summary>Caches and verifies the whole file through <paramref name="client"/>, then measures each figure for <paramref name="duration"/>.</summary>
    public static async Task<HotReads> MeasureAsync(LocalCluster cluster, DoraClient client, long fileLength, TimeSpan duration)
    {
        var buffer = new byte[1 << 20];
        for (long offset = 0; offset < fileLength; offset += buffer.Length)
        {
            await client.ReadAsync(StreamBench.FilePath, offset, buffer);
        }

        await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
        double sequential = await StreamBench.SequentialAsync(client, fileLength, window: 4);
        Func<long, Memory<byte>, Task<int>> read = (offset, memory) => client.ReadAsync(StreamBench.FilePath, offset, memory);
        StreamBench.Result random1M = await StreamBench.RandomAsync(16, 1 << 20, fileLength, duration, read);
        StreamBench.Result iops4K = await StreamBench.RandomAsync(16, 4 << 10, fileLength, duration, read);
        StreamBench.Result iops100K = await StreamBench.RandomAsync(16, 100 << 10, fileLength, duration, read);
        StreamBench.Result latency4K = await StreamBench.RandomAsync(1, 4 << 10, fileLength, duration, read);
        return new HotReads(sequential, random1M.MiBps, iops4K.Iops, iops100K.Iops, latency4K.P50Us);
    }

    /// <summary>Each figure's median over <paramref name="runs"/>.</summary>
    public static HotReads Median(List<HotReads> runs) => new(
        Of(runs, f => f.Sequential), Of(runs, f => f.Random1M), Of(runs, f => f.Iops4K), Of(runs, f => f.Iops100K), Of(runs, f => f.P50Us4K));

    private static double Of(List<HotReads> runs, Func<HotReads, double> figure)
    {
        double[] sorted = [.. runs.Select(figure).Order()];
        return sorted[sorted.Length / 2];
    }
}
