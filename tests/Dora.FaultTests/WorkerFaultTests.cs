using System.Diagnostics;
using System.Text.Json;
using Dora.Registry;
using Dora.TestSupport;
using Xunit.Abstractions;

namespace Dora.FaultTests;

/// <summary>Workers that die, a registry that freezes, and the bytes readers get meanwhile.</summary>
public sealed class WorkerFaultTests(ITestOutputHelper output)
{
    private const int Length = 48 << 20;

    [Fact]
    public async Task A_worker_killed_mid_read_is_failed_over_and_every_byte_is_right()
    {
        byte[] file = [];
        await using ProcessCluster cluster = await ProcessCluster.StartAsync(3, ufs => file = TestFiles.Write(Path.Combine(ufs, "big.bin"), Length, seed: 1), "--page-size", "256KiB");
        int owner = await cluster.OwnerIndexAsync("/big.bin");
        var buffer = new byte[Length];
        TimeSpan slowest = TimeSpan.Zero;
        for (int offset = 0; offset < Length; offset += 1 << 20)
        {
            if (offset == Length / 3)
            {
                // The owner dies mid-read, without a chance to leave the ring.
                cluster.Worker(owner).Kill9();
            }

            var watch = Stopwatch.StartNew();
            int read = await cluster.Client.ReadAsync("/big.bin", offset, buffer.AsMemory(offset, 1 << 20)).Within();
            slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            Assert.Equal(1 << 20, read);
        }

        Assert.True(file.AsSpan().SequenceEqual(buffer), "the bytes read differ from the file");
        output.WriteLine($"slowest 1 MiB read across the kill (the failover): {slowest.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_registry_frozen_beyond_the_lease_shrinks_no_ring_and_the_workers_re_register()
    {
        byte[] file = [];
        await using ProcessCluster cluster = await ProcessCluster.StartAsync(3, ufs => file = TestFiles.Write(Path.Combine(ufs, "f.bin"), 4 << 20, seed: 2));
        int smallest = int.MaxValue;
        cluster.Client.Cluster.RingChanged += (_, _) => smallest = Math.Min(smallest, cluster.Client.Cluster.Membership.Workers.Count);

        // Frozen three leases long: every lease runs out, and expires the moment etcd runs again.
        cluster.Etcd.Freeze();
        var buffer = new byte[file.Length];
        var frozen = Stopwatch.StartNew();
        while (frozen.Elapsed < TimeSpan.FromSeconds(6))
        {
            // Reads go on against the last membership seen.
            Assert.Equal(file.Length, await cluster.Client.ReadAsync("/f.bin", 0, buffer).Within());
            await Task.Delay(200);
        }

        cluster.Etcd.Thaw();
        await using EtcdRegistryWatch watch = new(cluster.Registry());
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        Membership membership;
        while ((membership = await watch.Registry.ReadAsync(default).Within()).Workers.Count(w => w.Registrations >= 2) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the workers did not re-register: {string.Join(", ", membership.Workers.Select(w => $"{w.Id} x{w.Registrations}"))}");
            await Task.Delay(100);
        }

        Assert.True(smallest == int.MaxValue || smallest == 3, $"a client's ring shrank to {smallest} workers");
        Assert.Equal(3, cluster.Client.Cluster.Membership.Workers.Count);
        Assert.Equal(file.Length, await cluster.Client.ReadAsync("/f.bin", 0, buffer).Within());
        Assert.True(file.AsSpan().SequenceEqual(buffer));

        (int code, string table) = await cluster.DoraAsync("workers");
        Assert.True(code == 0, table);
        Assert.Contains("re-registered 1 time after its lease was lost", table, StringComparison.Ordinal);
        output.WriteLine(table);
    }

    /// <summary>A registry to read from, disposed with the test.</summary>
    private sealed class EtcdRegistryWatch(Dora.Registry.Etcd.EtcdRegistry registry) : IAsyncDisposable
    {
        public Dora.Registry.Etcd.EtcdRegistry Registry => registry;

        public ValueTask DisposeAsync() => registry.DisposeAsync();
    }

    [Fact]
    public async Task Page_files_damaged_while_the_worker_runs_are_caught_on_every_face()
    {
        byte[] file = [];
        await using ProcessCluster cluster = await ProcessCluster.StartAsync(1, ufs => file = TestFiles.Write(Path.Combine(ufs, "d.bin"), 8 << 20, seed: 3), "--page-size", "256KiB");
        var buffer = new byte[file.Length];
        Assert.Equal(file.Length, await cluster.Client.ReadAsync("/d.bin", 0, buffer).Within());
        await WaitForAsync(async () => (await cluster.MetricsAsync(0))["dora_cache_pages"] == 32, "every page is written");

        // One page file gets a flipped byte, one is cut short, one is deleted: behind the worker's back.
        string[] pages = [.. Directory.EnumerateFiles(cluster.CacheDirectory(0), "*.page", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        using (var flipped = new FileStream(pages[3], FileMode.Open, FileAccess.ReadWrite))
        {
            flipped.Position = flipped.Length - 100;
            int value = flipped.ReadByte();
            flipped.Position = flipped.Length - 100;
            flipped.WriteByte((byte)(value ^ 0x5A));
        }

        using (var cut = new FileStream(pages[7], FileMode.Open, FileAccess.Write))
        {
            cut.SetLength(cut.Length / 2);
        }

        File.Delete(pages[11]);

        // Every face reads the right bytes: zero-copy page stream frames, copied frames, HTTP.
        Array.Clear(buffer);
        Assert.Equal(file.Length, await cluster.Client.ReadAsync("/d.bin", 0, buffer).Within());
        Assert.True(file.AsSpan().SequenceEqual(buffer), "the page stream served other bytes");
        using HttpResponseMessage http = await cluster.HttpAsync(0, "/v1/data?path=/d.bin");
        byte[] viaHttp = await http.Content.ReadAsByteArrayAsync();
        Assert.True(file.AsSpan().SequenceEqual(viaHttp), "HTTP served other bytes");
        for (int offset = 0; offset < file.Length; offset += 100_000)
        {
            int read = await cluster.Client.ReadAsync("/d.bin", offset, buffer.AsMemory(0, 4096)).Within();
            Assert.True(file.AsSpan(offset, read).SequenceEqual(buffer.AsSpan(0, read)), $"small read at {offset}");
        }

        Dictionary<string, double> metrics = await cluster.MetricsAsync(0);
        Assert.Equal(3, metrics["dora_page_checksum_failures_total"]);
        Assert.Equal(file.Length + (3 * (256 << 10)), metrics["dora_ufs_read_bytes_total"]);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_full_cache_disk_degrades_to_read_through_without_fetching_pages_twice()
    {
        byte[] file = [];
        await using ProcessCluster cluster = await ProcessCluster.StartAsync(0, ufs => file = TestFiles.Write(Path.Combine(ufs, "big.bin"), 32 << 20, seed: 4));

        // The cache directory is a 12 MiB file system, its quota 1 GiB: the disk fills long before the quota.
        string cache = cluster.CacheDirectory(0);
        Directory.CreateDirectory(cache);
        await using var disk = await TmpfsMount.MountAsync(cache, "12m");
        await cluster.StartWorkerAsync(0, "--cache-size", "1GiB");
        await WaitForAsync(() => Task.FromResult(cluster.Client.Cluster.Membership.Workers.Count == 1), "the client sees the worker");

        var buffer = new byte[file.Length];
        for (int offset = 0; offset < file.Length; offset += 1 << 20)
        {
            Assert.Equal(1 << 20, await cluster.Client.ReadAsync("/big.bin", offset, buffer.AsMemory(offset, 1 << 20)).Within());
        }

        Assert.True(file.AsSpan().SequenceEqual(buffer), "the bytes read differ from the file");
        Dictionary<string, double> metrics = await cluster.MetricsAsync(0);
        double fetched = metrics["dora_ufs_read_bytes_total"];
        output.WriteLine($"read {file.Length >> 20} MiB through a worker whose disk filled: {fetched / (1 << 20):0.#} MiB fetched from the source, {metrics["dora_cache_write_failures_total"]} page writes failed");
        Assert.True(fetched <= file.Length + (4 << 20), $"{fetched} bytes fetched for a {file.Length}-byte file: pages fetched ahead were thrown away");
        Assert.True(metrics["dora_cache_write_failures_total"] >= 1);

        using HttpResponseMessage health = await cluster.HttpAsync(0, "/healthz");
        using JsonDocument json = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("degraded", json.RootElement.GetProperty("status").GetString());
        Assert.Contains("No space left on device", json.RootElement.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
        (int code, string table) = await cluster.DoraAsync("workers");
        Assert.True(code == 0, table);
        Assert.Contains("degraded", table, StringComparison.Ordinal);
    }
}
