using System.Globalization;
using Dora.Client;
using Dora.Core.Security;
using Dora.TestSupport;
using Dora.Worker.Hosting;

namespace Dora.Benchmarks;

/// <summary>
/// What TLS costs on the page stream: the same hot reads from one worker in plaintext (cached pages of 256 KiB and more
/// go out with sendfile) and with TLS (every byte encrypted through a pooled buffer), alternating, several rounds,
/// medians reported with the ratio TLS / plaintext.
/// </summary>
internal static class TlsBench
{
    public static async Task RunAsync(string work, long fileLength, TimeSpan duration, int rounds)
    {
        string root = Path.Combine(work, "tls");
        string ufs = Path.Combine(root, "ufs");
        EngineBench.WriteFile(Path.Combine(ufs, "big.bin"), fileLength);
        using var ca = new TestCertificates();
        CertificatePair pair = ca.Server();
        var serverTls = new ServerTls(CertificateFiles.Load(pair.CertificateFile, pair.KeyFile));
        var clientTls = new ClientTls(TlsTrust.FromCaFile(ca.CaFile), Required: true);
        Console.WriteLine($"TLS on the page stream: hot reads of a {fileLength >> 20} MiB file, {rounds} rounds of {duration.TotalSeconds:0} s phases, plaintext and TLS alternating; {Environment.ProcessorCount} cores; loopback");

        var plain = new List<HotReads>();
        var tls = new List<HotReads>();
        for (int round = 0; round < rounds; round++)
        {
            plain.Add(await MeasureAsync(root, ufs, fileLength, duration, null, null));
            tls.Add(await MeasureAsync(root, ufs, fileLength, duration, serverTls, clientTls));
        }

        HotReads p = HotReads.Median(plain);
        HotReads t = HotReads.Median(tls);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("hot reads, one worker, median of rounds", "plaintext (baseline)", "TLS", "TLS / plaintext"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:"));
        Row("sequential 1 MiB, 4 in flight, MiB/s", p.Sequential, t.Sequential);
        Row("random 1 MiB, 16 concurrent, MiB/s", p.Random1M, t.Random1M);
        Row("random 4 KiB, 16 concurrent, IOPS", p.Iops4K, t.Iops4K);
        Row("random 100 KiB, 16 concurrent, IOPS", p.Iops100K, t.Iops100K);
        Row("random 4 KiB, 1 at a time, p50 µs", p.P50Us4K, t.P50Us4K);
    }

    private static void Row(string name, double plain, double tls) =>
        Console.WriteLine(Measure.Row(name, plain.ToString("0", CultureInfo.InvariantCulture), tls.ToString("0", CultureInfo.InvariantCulture), (tls / plain).ToString("0.00", CultureInfo.InvariantCulture)));

    private static async Task<HotReads> MeasureAsync(string root, string ufs, long fileLength, TimeSpan duration, ServerTls? serverTls, ClientTls? clientTls)
    {
        await using LocalCluster cluster = await StreamBench.StartWorkerAsync(root, ufs, fileLength, 256 << 10, keepCache: true, tls: serverTls);
        await using DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false, Tls = clientTls });
        return await HotReads.MeasureAsync(cluster, client, fileLength, duration);
    }
}
