using Dora.Core.Paths;
using Dora.TestSupport;
using Dora.Worker.Pages;
using Dora.Worker.Pages.Eviction;

namespace Dora.Worker.Tests;

public sealed class PageStoreTests
{
    private const int PageSize = 16 * 1024;
    private const long DiskPage = PageSize + 4096;

    [Theory]
    [InlineData(EvictionPolicyKind.Lru)]
    [InlineData(EvictionPolicyKind.Lfu)]
    [InlineData(EvictionPolicyKind.S3Fifo)]
    public async Task Eviction_under_quota_pressure_keeps_the_hot_set(EvictionPolicyKind policy)
    {
        using var t = new TestEngine(PageSize, quota: 10 * DiskPage, eviction: policy);
        var hot = t.WriteFile("hot.bin", 3 * PageSize, seed: 1);
        var cold = t.WriteFile("cold.bin", 40 * PageSize, seed: 2);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(hot, await t.ReadAsync("/hot.bin", 0, hot.Length));
        }

        // A long one-off scan interleaved with continued use of the hot set.
        for (var page = 0; page < 40; page++)
        {
            Assert.Equal(cold.AsSpan(page * PageSize, PageSize).ToArray(), await t.ReadAsync("/cold.bin", page * PageSize, PageSize));
            if (page % 2 == 1)
            {
                Assert.Equal(hot, await t.ReadAsync("/hot.bin", 0, hot.Length));
            }
        }

        var readsBefore = t.Ufs.Reads;
        Assert.Equal(hot, await t.ReadAsync("/hot.bin", 0, hot.Length));
        Assert.Equal(readsBefore, t.Ufs.Reads);
        Assert.True(t.Pages.UsedBytes <= 10 * DiskPage);
        Assert.True(t.Metrics.Evictions >= 30);
        Assert.Equal(t.Pages.PageCount, t.PageFiles().Count());
    }

    [Fact]
    public async Task Fifo_evicts_in_write_order_whatever_is_read()
    {
        using var t = new TestEngine(PageSize, quota: 4 * DiskPage, eviction: EvictionPolicyKind.Fifo);
        var bytes = t.WriteFile("f.bin", 6 * PageSize, seed: 1);
        for (var page = 0; page < 4; page++)
        {
            await t.ReadAsync("/f.bin", page * PageSize, PageSize);
        }

        await t.ReadAsync("/f.bin", 0, PageSize);
        await t.ReadAsync("/f.bin", 4 * PageSize, PageSize);
        var reads = t.Ufs.Reads;
        Assert.Equal(bytes.AsSpan(0, PageSize).ToArray(), await t.ReadAsync("/f.bin", 0, PageSize));
        Assert.Equal(reads + 1, t.Ufs.Reads);
    }

    [Theory]
    [InlineData(EvictionPolicyKind.Lru)]
    [InlineData(EvictionPolicyKind.Fifo)]
    [InlineData(EvictionPolicyKind.Lfu)]
    [InlineData(EvictionPolicyKind.S3Fifo)]
    public async Task Eviction_under_concurrency_never_fails_a_read_nor_exceeds_the_quota(EvictionPolicyKind policy)
    {
        const long quota = 6 * DiskPage;
        using var t = new TestEngine(PageSize, quota: quota, eviction: policy);
        var files = Enumerable.Range(0, 6).Select(i => t.WriteFile($"f{i}.bin", (7 * PageSize) + (i * 333), seed: i)).ToArray();
        var stop = false;
        var maxUsed = 0L;
        var watcher = Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop))
            {
                maxUsed = Math.Max(maxUsed, t.Pages.UsedBytes);
                await Task.Yield();
            }
        });
        var readers = Enumerable.Range(0, 12).Select(reader => Task.Run(async () =>
        {
            var random = new Random(reader);
            for (var n = 0; n < 120; n++)
            {
                var file = random.Next(files.Length);
                var bytes = files[file];
                var offset = random.Next(bytes.Length);

                // Requests both smaller and larger than a page.
                var length = reader % 2 == 0 ? random.Next(1, 200) : random.Next(PageSize, 3 * PageSize);
                var read = await t.ReadAsync($"/f{file}.bin", offset, length);
                Assert.Equal(bytes.AsSpan(offset, Math.Min(length, bytes.Length - offset)).ToArray(), read);
            }
        })).ToArray();
        await Task.WhenAll(readers).Within();
        Volatile.Write(ref stop, true);
        await watcher.Within();
        Assert.True(maxUsed <= quota, $"used {maxUsed} > quota {quota}");
        Assert.True(t.Metrics.Evictions > 0);
        Assert.Equal(t.Pages.PageCount, t.PageFiles().Count());
        Assert.Equal(t.PageFiles().Sum(f => new FileInfo(f).Length), t.Pages.UsedBytes);
    }

    [Fact]
    public async Task A_restart_keeps_pages_and_metadata_without_reading_the_under_storage()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", (5 * PageSize) + 17, seed: 9);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        t.Reopen();
        Assert.Equal(6, t.Pages.PageCount);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(0, t.Ufs.Reads);
        Assert.Equal(0, t.Ufs.Stats);
        Assert.Equal(1, t.Metrics.MetadataRocksDbLookups);
        Assert.Equal(6, t.Metrics.CacheHits);
        Assert.Equal(0, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task A_corrupted_page_file_is_detected_counted_and_healed()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 3 * PageSize, seed: 4);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        var victim = t.PageFiles().First();
        using (var stream = new FileStream(victim, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 4096 + 100;
            var b = stream.ReadByte();
            stream.Position = 4096 + 100;
            stream.WriteByte((byte)(b ^ 0xFF));
        }

        t.Reopen();
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
        Assert.Equal(1, t.Ufs.Reads);
        Assert.Equal(3, t.Pages.PageCount);

        // Healed: the next restart finds three good pages.
        t.Reopen();
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(0, t.Metrics.ChecksumFailures);
        Assert.Equal(0, t.Ufs.Reads);
    }

    [Fact]
    public async Task A_page_file_deleted_behind_the_cache_is_refetched()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 4);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        string[] files = [.. t.PageFiles()];
        Assert.Equal(2, files.Length);
        foreach (var file in files)
        {
            File.Delete(file);
        }

        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(2, t.Metrics.ChecksumFailures);
        Assert.Equal(2, t.PageFiles().Count());
    }

    [Fact]
    public async Task Start_up_drops_temporary_and_unknown_files()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", PageSize, seed: 1);
        await t.ReadAsync("/f.bin", 0, PageSize);
        var page = t.PageFiles().Single();
        var bucket = Path.GetDirectoryName(page)!;
        File.WriteAllBytes(page + ".tmp", new byte[100]);
        File.WriteAllText(Path.Combine(bucket, "notes.txt"), "not a page");
        File.WriteAllBytes(Path.Combine(bucket, Path.GetFileName(page).Replace("_0_", "_1_", StringComparison.Ordinal)), new byte[10]);
        t.Reopen();
        Assert.Equal([page], Directory.GetFiles(bucket));
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, PageSize));
        Assert.Equal(0, t.Ufs.Reads);
    }

    [Fact]
    public async Task A_changed_page_size_empties_the_store_at_start_up()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 3 * PageSize, seed: 1);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        t.PageSize = 2 * PageSize;
        t.Reopen();
        Assert.Equal(0, t.Pages.PageCount);
        Assert.Empty(t.PageFiles());
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
    }

    [Fact]
    public async Task A_second_store_on_a_live_cache_directory_fails_before_touching_a_page()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 3 * PageSize, seed: 1);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        string[] pages = [.. t.PageFiles()];

        // Another page size would empty the directory at start-up, if the second store got that far.
        var options = new PageStoreOptions { Directories = [new CacheDirectoryOptions(t.CacheRoot, 1 << 20)], PageSize = 2 * PageSize };
        var error = Assert.Throws<CacheDirectoryInUseException>(() => PageStore.Open(options, new Metrics.WorkerMetrics(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.Contains(t.CacheRoot, error.Message, StringComparison.Ordinal);
        Assert.Equal(pages, t.PageFiles());
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(3, t.Ufs.Reads);

        // Once the first store is closed, the directory can be opened again.
        t.Reopen();
        Assert.Equal(3, t.Pages.PageCount);
    }

    [Fact]
    public async Task An_unwritable_cache_directory_degrades_to_read_through()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 4 * PageSize, seed: 1);

        // The page folder turns into a plain file: every page write now fails, even for root.
        var pages = Path.Combine(t.CacheRoot, "pages");
        Directory.Delete(pages, recursive: true);
        File.WriteAllText(pages, "in the way");
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.True(t.Metrics.CacheWriteFailures >= 1);
        Assert.Equal(0, t.Pages.PageCount);
        Assert.Equal(1, t.Pages.UnavailableDirectories);
        Assert.Equal(0, t.Pages.UsedBytes);
    }

    [Fact]
    public async Task A_cache_directory_unusable_at_start_up_degrades_to_read_through()
    {
        using var temp = new TemporaryDirectory();
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 1);
        var blocker = temp.Combine("blocker");
        File.WriteAllText(blocker, "a file where the cache folder should be");
        t.CacheRoot = blocker;
        t.Reopen();
        Assert.Equal(1, t.Pages.UnavailableDirectories);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
    }

    [Fact]
    public async Task A_page_larger_than_the_quota_is_served_without_caching()
    {
        using var t = new TestEngine(PageSize, quota: PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 1);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(0, t.Pages.PageCount);
        Assert.Equal(0, t.Metrics.CacheWriteFailures);
    }

    [Fact]
    public async Task Cached_bytes_of_a_file_are_counted_per_version()
    {
        using var t = new TestEngine(PageSize);
        t.WriteFile("f.bin", (2 * PageSize) + 10, seed: 1);
        await t.ReadAsync("/f.bin", PageSize + 5, 10);
        var info = await t.Engine.GetInfoAsync(DoraPath.Parse("/f.bin"), default).Within();
        Assert.Equal(PageSize, info.CachedBytes);
        await t.ReadAsync("/f.bin", 2 * PageSize, 10);
        info = await t.Engine.GetInfoAsync(DoraPath.Parse("/f.bin"), default).Within();
        Assert.Equal(PageSize + 10, info.CachedBytes);
    }
}
