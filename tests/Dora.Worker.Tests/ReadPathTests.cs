using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.TestSupport;

namespace Dora.Worker.Tests;

public sealed class ReadPathTests : IDisposable
{
    private const int PageSize = 16 * 1024;
    private readonly TestEngine _t = new(PageSize);

    [Fact]
    public async Task Random_ranges_of_random_files_read_back_byte_exact()
    {
        var random = new Random(7);
        int[] sizes = [0, 1, 100, PageSize - 1, PageSize, PageSize + 1, 3 * PageSize, (5 * PageSize) + 777, 200_000];
        var files = new Dictionary<string, byte[]>();
        for (var i = 0; i < sizes.Length; i++)
        {
            files[$"/dir{i % 3}/file-{i}.bin"] = _t.WriteFile($"dir{i % 3}/file-{i}.bin", sizes[i], seed: i);
        }

        for (var round = 0; round < 2; round++)
        {
            // The first round is mostly misses, the second mostly hits: both must give the source's bytes.
            foreach (var (path, bytes) in files)
            {
                for (var n = 0; n < 25; n++)
                {
                    var offset = bytes.Length == 0 ? 0 : random.Next(bytes.Length + 1);
                    var length = random.Next(0, (3 * PageSize) + 5);
                    var read = await _t.ReadAsync(path, offset, length);
                    var expected = bytes.AsSpan(offset, Math.Min(length, bytes.Length - offset)).ToArray();
                    Assert.Equal(expected, read);
                }
            }
        }

        Assert.True(_t.Metrics.CacheHits > 0);
        Assert.True(_t.Metrics.CacheMisses > 0);
    }

    [Theory]
    [InlineData(0, PageSize)]
    [InlineData(PageSize - 1, 2)]
    [InlineData(PageSize, PageSize)]
    [InlineData((2 * PageSize) - 10, 20)]
    [InlineData((3 * PageSize) + 90, 100)]
    [InlineData((3 * PageSize) + 100, 10)]
    public async Task Reads_at_page_boundaries_and_at_the_end_of_the_file_are_exact(long offset, int length)
    {
        var bytes = _t.WriteFile("f.bin", (3 * PageSize) + 100, seed: 11);
        var read = await _t.ReadAsync("/f.bin", offset, length);
        var expectedLength = (int)Math.Max(0, Math.Min(length, bytes.Length - offset));
        Assert.Equal(bytes.AsSpan((int)offset, expectedLength).ToArray(), read);
    }

    [Fact]
    public async Task Reading_past_the_end_is_an_error_naming_the_file_length()
    {
        _t.WriteFile("f.bin", 100, seed: 1);
        var error = await Assert.ThrowsAsync<InvalidRangeException>(() => _t.ReadAsync("/f.bin", 101, 1));
        Assert.Contains("100", error.Message, StringComparison.Ordinal);
        Assert.Empty(await _t.ReadAsync("/f.bin", 100, 10));
    }

    [Fact]
    public async Task Missing_files_and_directories_are_reported_as_such()
    {
        Directory.CreateDirectory(Path.Combine(_t.UfsRoot, "dir"));
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => _t.ReadAsync("/missing.bin", 0, 1));
        var error = await Assert.ThrowsAsync<InvalidPathException>(() => _t.ReadAsync("/dir", 0, 1));
        Assert.Contains("directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_readers_on_the_same_and_different_pages_get_correct_bytes()
    {
        var files = Enumerable.Range(0, 4).Select(i => _t.WriteFile($"c{i}.bin", (8 * PageSize) + (i * 1000), seed: 100 + i)).ToArray();
        var readers = Enumerable.Range(0, 16).Select(reader => Task.Run(async () =>
        {
            var random = new Random(reader);
            for (var n = 0; n < 150; n++)
            {
                // Half of the readers hammer the same two pages of file 0; the others spread out.
                var file = reader % 2 == 0 ? 0 : random.Next(files.Length);
                var bytes = files[file];
                var offset = reader % 2 == 0 ? random.Next(2 * PageSize) : random.Next(bytes.Length);
                var length = random.Next(1, 2 * PageSize);
                var read = await _t.ReadAsync($"/c{file}.bin", offset, length);
                Assert.Equal(bytes.AsSpan(offset, Math.Min(length, bytes.Length - offset)).ToArray(), read);
            }
        })).ToArray();
        await Task.WhenAll(readers).Within();
        Assert.True(_t.Ufs.Reads <= files.Sum(f => (f.Length + PageSize - 1) / PageSize), $"{_t.Ufs.Reads} under-storage reads for pages that each needed one");
    }

    [Fact]
    public async Task Concurrent_misses_on_one_page_make_one_under_storage_read()
    {
        var bytes = _t.WriteFile("hot.bin", PageSize, seed: 3);
        await _t.Engine.GetStatusAsync(DoraPath.Parse("/hot.bin"), default).Within();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _t.Ufs.ReadGate = gate;
        var readers = Enumerable.Range(0, 20).Select(i => _t.ReadAsync("/hot.bin", i * 100, 100)).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_t.Metrics.CoalescedReads < 19 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        gate.SetResult();
        var results = await Task.WhenAll(readers).Within();
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(bytes.AsSpan(i * 100, 100).ToArray(), results[i]);
        }

        Assert.Equal(1, _t.Ufs.Reads);
        Assert.Equal(19, _t.Metrics.CoalescedReads);
    }

    [Fact]
    public async Task A_cancelled_reader_does_not_fail_the_others_waiting_for_the_same_page()
    {
        var bytes = _t.WriteFile("p.bin", PageSize, seed: 4);
        await _t.Engine.GetStatusAsync(DoraPath.Parse("/p.bin"), default).Within();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _t.Ufs.ReadGate = gate;
        using var cancel = new CancellationTokenSource();
        var cancelled = _t.Engine.ReadAsync(DoraPath.Parse("/p.bin"), 0, new byte[10], cancel.Token).AsTask();
        var patient = _t.ReadAsync("/p.bin", 0, 10);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled).Within();
        gate.SetResult();
        Assert.Equal(bytes.AsSpan(0, 10).ToArray(), await patient.Within());
    }

    [Fact]
    public async Task An_under_storage_failure_reaches_the_reader_and_caches_nothing()
    {
        var bytes = _t.WriteFile("f.bin", PageSize, seed: 5);
        await _t.Engine.GetStatusAsync(DoraPath.Parse("/f.bin"), default).Within();
        _t.Ufs.ReadFailure = new UnderStorageException("/f.bin", "connection reset", isTransient: true);
        var error = await Assert.ThrowsAsync<UnderStorageException>(() => _t.ReadAsync("/f.bin", 0, 10));
        Assert.True(error.IsTransient);
        Assert.Equal(0, _t.Pages.PageCount);
        _t.Ufs.ReadFailure = null;
        Assert.Equal(bytes.AsSpan(0, 10).ToArray(), await _t.ReadAsync("/f.bin", 0, 10));
    }

    [Fact]
    public async Task Sequential_reads_fetch_the_next_pages_ahead()
    {
        using var t = new TestEngine(PageSize, readAheadPages: 3);
        var bytes = t.WriteFile("seq.bin", 10 * PageSize, seed: 6);
        Assert.Equal(bytes.AsSpan(0, PageSize).ToArray(), await t.ReadAsync("/seq.bin", 0, PageSize));
        Assert.Equal(bytes.AsSpan(PageSize, PageSize).ToArray(), await t.ReadAsync("/seq.bin", PageSize, PageSize));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (t.Pages.PageCount < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(5, t.Pages.PageCount);
        Assert.Equal(3, t.Metrics.ReadAheadPages);
        var missesBefore = t.Metrics.CacheMisses;
        Assert.Equal(bytes.AsSpan(2 * PageSize, 3 * PageSize).ToArray(), await t.ReadAsync("/seq.bin", 2 * PageSize, 3 * PageSize));
        Assert.Equal(missesBefore, t.Metrics.CacheMisses);
    }

    [Fact]
    public async Task A_changed_source_file_gives_new_bytes_after_revalidation_and_its_old_pages_are_dropped()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Ttl, ttl: TimeSpan.FromMilliseconds(200));
        var old = t.WriteFile("f.bin", 3 * PageSize, seed: 1);
        Assert.Equal(old, await t.ReadAsync("/f.bin", 0, old.Length));
        Assert.Equal(3, t.Pages.PageCount);

        var fresh = t.WriteFile("f.bin", (2 * PageSize) + 5, seed: 2);
        File.SetLastWriteTimeUtc(Path.Combine(t.UfsRoot, "f.bin"), DateTime.UtcNow.AddMinutes(1));
        await Task.Delay(300);
        Assert.Equal(fresh, await t.ReadAsync("/f.bin", 0, fresh.Length + 10));
        Assert.Equal(3, t.Pages.PageCount);
        Assert.Equal(3, t.PageFiles().Count());
    }

    [Fact]
    public async Task Explicit_invalidation_makes_an_immutable_mount_see_a_changed_file()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Immutable);
        var old = t.WriteFile("f.bin", 1000, seed: 1);
        Assert.Equal(old, await t.ReadAsync("/f.bin", 0, 1000));
        var fresh = t.WriteFile("f.bin", 1200, seed: 2);
        Assert.Equal(old, await t.ReadAsync("/f.bin", 0, 1000));
        t.Engine.Invalidate(DoraPath.Parse("/"), recursive: true);
        Assert.Equal(fresh, await t.ReadAsync("/f.bin", 0, 1200));
        Assert.Equal(1, t.Pages.PageCount);
    }

    [Fact]
    public async Task The_always_mode_checks_the_under_storage_on_every_open()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Always);
        t.WriteFile("f.bin", 1000, seed: 1);
        for (var i = 0; i < 5; i++)
        {
            await t.ReadAsync("/f.bin", 0, 10);
        }

        Assert.Equal(5, t.Ufs.Stats);
        Assert.Equal(1, t.Ufs.Reads);
    }

    public void Dispose() => _t.Dispose();
}
