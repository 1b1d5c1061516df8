using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.TestSupport;
using Dora.Worker.Pages;

namespace Dora.Worker.Tests;

/// <summary>Misses are bounded worker-wide and never serialize behind one another.</summary>
public sealed class MissTests
{
    private const int PageSize = 16 * 1024;

    [Fact]
    public async Task Under_storage_reads_running_at_once_never_exceed_the_workers_bound()
    {
        using var t = new TestEngine(PageSize, maxConcurrentLoads: 3);
        var bytes = t.WriteFile("f.bin", 20 * PageSize, seed: 1);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        t.Ufs.ReadGate = gate;
        var readers = Enumerable.Range(0, 20).Select(page => t.Engine.ReadAsync(DoraPath.Parse("/f.bin"), page * PageSize, new byte[PageSize], default).AsTask()).ToArray();
        while (t.Pages.LoadsInFlight < 20 || t.Ufs.Reads < 3)
        {
            await Task.Delay(5);
        }

        gate.SetResult();
        await Task.WhenAll(readers).Within();
        Assert.Equal(20, t.Ufs.Reads);
        Assert.Equal(3, t.Ufs.MostReadsRunning);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
    }

    [Fact]
    public async Task A_miss_stuck_in_the_under_storage_does_not_hold_up_misses_on_other_files()
    {
        using var t = new TestEngine(PageSize);
        t.WriteFile("stuck.bin", PageSize, seed: 1);
        var other = t.WriteFile("other.bin", PageSize, seed: 2);
        using var release = new ManualResetEventSlim();
        t.Ufs.BlockThreadOn = ("stuck.bin", release);
        var stuck = Task.Run(() => t.Engine.ReadAsync(DoraPath.Parse("/stuck.bin"), 0, new byte[PageSize], default).AsTask());
        Assert.True(await t.Ufs.BlockedReads.WaitAsync(TestTimeouts.Default));

        // The stuck read holds a thread inside the under storage; the page store holds no lock meanwhile.
        var buffer = new byte[PageSize];
        Assert.Equal(PageSize, await t.Engine.ReadAsync(DoraPath.Parse("/other.bin"), 0, buffer, default).Within());
        Assert.Equal(other, buffer);
        release.Set();
        Assert.Equal(PageSize, await stuck.Within());
    }

    [Fact]
    public async Task Read_ahead_stops_while_the_cache_directory_is_bypassed()
    {
        using var t = new TestEngine(PageSize, readAheadPages: 4);
        var bytes = t.WriteFile("f.bin", 10 * PageSize, seed: 3);
        var pages = Path.Combine(t.CacheRoot, "pages");
        Directory.Delete(pages, recursive: true);
        File.WriteAllText(pages, "in the way");
        for (var page = 0; page < 10; page++)
        {
            Assert.Equal(bytes.AsSpan(page * PageSize, PageSize).ToArray(), await t.ReadAsync("/f.bin", page * PageSize, PageSize));
        }

        // Every page came from the source once: nothing was fetched ahead only to be thrown away and fetched again.
        Assert.Equal(10, t.Ufs.Reads);
        Assert.Equal(0, t.Metrics.ReadAheadPages);
        Assert.Single(t.Pages.DegradedReasons);
    }

    [Fact]
    public async Task A_load_whose_pages_cannot_be_written_fails_as_transient_and_says_why()
    {
        using var t = new TestEngine(PageSize);
        t.WriteFile("f.bin", 3 * PageSize, seed: 4);
        var pages = Path.Combine(t.CacheRoot, "pages");
        Directory.Delete(pages, recursive: true);
        File.WriteAllText(pages, "in the way");

        // The scheduler counts a LOAD's pages as cached: one that could not be written must not be reported loaded.
        var error = await Assert.ThrowsAsync<DoraException>(() => t.Engine.LoadAsync(DoraPath.Parse("/f.bin"), 0, null, refresh: false, default).Within());
        Assert.True(error.IsTransient);
        Assert.Contains("was read but not cached", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, t.Pages.CachedBytes(FileKey.For(DoraPath.Parse("/f.bin"), (await t.Engine.GetStatusAsync(DoraPath.Parse("/f.bin"), default)).Fingerprint), 3 * PageSize));
    }
}
