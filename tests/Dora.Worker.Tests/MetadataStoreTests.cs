using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Metadata;
using Dora.Worker.Metrics;

namespace Dora.Worker.Tests;

public sealed class MetadataStoreTests : IDisposable
{
    private readonly TemporaryDirectory _temp = new("metadata");
    private readonly ManualClock _clock = new();
    private readonly List<(DoraPath Path, UfsFileStatus Old)> _changes = [];
    private readonly string _ufsRoot;
    private readonly CountingUnderStorage _ufs;
    private WorkerMetrics _metrics = new();

    public MetadataStoreTests()
    {
        _ufsRoot = _temp.Combine("ufs");
        Directory.CreateDirectory(_ufsRoot);
        _ufs = new CountingUnderStorage(new LocalUnderStorage(_ufsRoot));
    }

    [Fact]
    public async Task A_status_is_answered_from_memory_then_from_rocksdb_after_a_restart()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "f.bin"), 123, seed: 1);
        var path = Resolve("/f.bin", ConsistencyMode.Immutable);
        using (var store = Open())
        {
            Assert.Equal(123, (await store.GetStatusAsync(path, default).Within()).Length);
            Assert.Equal(123, (await store.GetStatusAsync(path, default).Within()).Length);
            Assert.Equal(1, _metrics.MetadataUfsLookups);
            Assert.Equal(1, _metrics.MetadataMemoryLookups);
        }

        _metrics = new WorkerMetrics();
        using (var store = Open())
        {
            Assert.Equal(123, (await store.GetStatusAsync(path, default).Within()).Length);
            Assert.Equal(1, _metrics.MetadataRocksDbLookups);
            Assert.Equal(0, _metrics.MetadataUfsLookups);
        }

        Assert.Equal(1, _ufs.Stats);
    }

    [Fact]
    public async Task A_missing_file_is_remembered_for_the_negative_ttl_only()
    {
        using var store = Open(new MetadataOptions { DatabaseDirectory = _temp.Combine("db"), NegativeTtl = TimeSpan.FromSeconds(5) });
        var path = Resolve("/later.bin", ConsistencyMode.Immutable);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => store.GetStatusAsync(path, default).AsTask()).Within();
        TestFiles.Write(Path.Combine(_ufsRoot, "later.bin"), 10, seed: 1);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => store.GetStatusAsync(path, default).AsTask()).Within();
        Assert.Equal(1, _ufs.Stats);
        _clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(10, (await store.GetStatusAsync(path, default).Within()).Length);
    }

    [Fact]
    public async Task The_ttl_mode_revalidates_after_the_mount_ttl_and_reports_a_changed_fingerprint()
    {
        var file = Path.Combine(_ufsRoot, "f.bin");
        TestFiles.Write(file, 100, seed: 1);
        using var store = Open();
        var path = Resolve("/f.bin", ConsistencyMode.Ttl, TimeSpan.FromSeconds(60));
        var first = await store.GetStatusAsync(path, default).Within();
        TestFiles.Write(file, 200, seed: 2);
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(100, (await store.GetStatusAsync(path, default).Within()).Length);
        Assert.Empty(_changes);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(200, (await store.GetStatusAsync(path, default).Within()).Length);
        var change = Assert.Single(_changes);
        Assert.Equal("/f.bin", change.Path.Value);
        Assert.Equal(first, change.Old);
    }

    [Fact]
    public async Task An_unchanged_file_is_revalidated_without_reporting_a_change()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "f.bin"), 100, seed: 1);
        using var store = Open();
        var path = Resolve("/f.bin", ConsistencyMode.Ttl, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            await store.GetStatusAsync(path, default).Within();
            _clock.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Equal(3, _ufs.Stats);
        Assert.Empty(_changes);
    }

    [Fact]
    public async Task A_deleted_file_is_reported_as_changed_and_then_missing()
    {
        var file = Path.Combine(_ufsRoot, "f.bin");
        TestFiles.Write(file, 100, seed: 1);
        using var store = Open();
        var path = Resolve("/f.bin", ConsistencyMode.Always);
        await store.GetStatusAsync(path, default).Within();
        File.Delete(file);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => store.GetStatusAsync(path, default).AsTask()).Within();
        Assert.Single(_changes);
    }

    [Fact]
    public async Task Invalidating_a_prefix_revalidates_everything_below_it_and_nothing_else()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "a", "x.bin"), 1, seed: 1);
        TestFiles.Write(Path.Combine(_ufsRoot, "a", "sub", "y.bin"), 2, seed: 2);
        TestFiles.Write(Path.Combine(_ufsRoot, "ab", "z.bin"), 3, seed: 3);
        using var store = Open();
        string[] paths = ["/a/x.bin", "/a/sub/y.bin", "/ab/z.bin"];
        foreach (var p in paths)
        {
            await store.GetStatusAsync(Resolve(p, ConsistencyMode.Immutable), default).Within();
        }

        store.Invalidate(DoraPath.Parse("/a"), recursive: true);
        foreach (var p in paths)
        {
            await store.GetStatusAsync(Resolve(p, ConsistencyMode.Immutable), default).Within();
        }

        Assert.Equal(5, _ufs.Stats);
    }

    [Fact]
    public async Task Invalidation_survives_a_restart()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "f.bin"), 1, seed: 1);
        var path = Resolve("/f.bin", ConsistencyMode.Immutable);
        using (var store = Open())
        {
            await store.GetStatusAsync(path, default).Within();
            store.Invalidate(path.Path, recursive: false);
        }

        using (var store = Open())
        {
            await store.GetStatusAsync(path, default).Within();
        }

        Assert.Equal(2, _ufs.Stats);
    }

    [Fact]
    public async Task Memory_holds_at_most_its_entry_count_and_rocksdb_answers_the_rest()
    {
        for (var i = 0; i < 20; i++)
        {
            TestFiles.Write(Path.Combine(_ufsRoot, $"f{i}"), i + 1, seed: i);
        }

        using var store = Open(new MetadataOptions { DatabaseDirectory = _temp.Combine("db"), MemoryMaxEntries = 5 });
        for (var i = 0; i < 20; i++)
        {
            await store.GetStatusAsync(Resolve($"/f{i}", ConsistencyMode.Immutable), default).Within();
        }

        Assert.Equal(5, store.MemoryEntries);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i + 1, (await store.GetStatusAsync(Resolve($"/f{i}", ConsistencyMode.Immutable), default).Within()).Length);
        }

        Assert.Equal(20, _ufs.Stats);
        Assert.True(_metrics.MetadataRocksDbLookups >= 15);
    }

    [Fact]
    public async Task Entries_older_than_the_disk_ttl_are_ignored_and_swept()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "f"), 1, seed: 1);
        var options = new MetadataOptions { DatabaseDirectory = _temp.Combine("db"), DiskTtl = TimeSpan.FromHours(1), MemoryTtl = TimeSpan.FromMinutes(1) };
        using var store = Open(options);
        var path = Resolve("/f", ConsistencyMode.Immutable);
        await store.GetStatusAsync(path, default).Within();
        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, store.SweepExpired());
        await store.GetStatusAsync(path, default).Within();
        Assert.Equal(2, _ufs.Stats);
    }

    [Fact]
    public async Task Listings_are_cached_per_page_and_dropped_by_invalidation()
    {
        for (var i = 0; i < 7; i++)
        {
            File.WriteAllText(Path.Combine(_ufsRoot, $"f{i}"), "x");
        }

        using var store = Open();
        var root = Resolve("/", ConsistencyMode.Immutable);
        var page = await store.ListAsync(root, null, 5, default).Within();
        Assert.Equal(5, page.Entries.Count);
        Assert.Equal("f4", page.NextToken);
        var rest = await store.ListAsync(root, page.NextToken, 5, default).Within();
        Assert.Equal(["f5", "f6"], rest.Entries.Select(e => e.Name));
        await store.ListAsync(root, null, 5, default).Within();
        Assert.Equal(2, _ufs.Lists);
        File.WriteAllText(Path.Combine(_ufsRoot, "f7"), "x");
        store.Invalidate(DoraPath.Parse("/f7"), recursive: false);
        var fresh = await store.ListAsync(root, "f4", 5, default).Within();
        Assert.Equal(["f5", "f6", "f7"], fresh.Entries.Select(e => e.Name));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListAsync(root, null, 0, default).AsTask()).Within();
    }

    [Fact]
    public async Task Concurrent_lookups_of_one_path_are_coalesced_into_few_under_storage_calls()
    {
        TestFiles.Write(Path.Combine(_ufsRoot, "f"), 1, seed: 1);
        using var store = Open();
        var path = Resolve("/f", ConsistencyMode.Immutable);
        var lookups = Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.GetStatusAsync(path, default).AsTask())).ToArray();
        await Task.WhenAll(lookups).Within();
        // A lookup that missed memory just before the first answer landed may start one more check.
        Assert.InRange(_ufs.Stats, 1, 3);
    }

    [Fact]
    public void Bad_options_are_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(() => new MetadataOptions { DatabaseDirectory = "x", MemoryMaxEntries = 0 }.Validate());
        Assert.Contains("MemoryMaxEntries", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _temp.Dispose();
    }

    private MetadataStore Open(MetadataOptions? options = null) =>
        new(options ?? new MetadataOptions { DatabaseDirectory = _temp.Combine("db") }, _metrics, (path, old) => _changes.Add((path, old)), _clock);

    private ResolvedPath Resolve(string path, ConsistencyMode mode, TimeSpan? ttl = null)
    {
        var mount = new Mount(DoraPath.Root, _ufs, mode, ttl);
        var parsed = DoraPath.Parse(path);
        return new ResolvedPath(parsed, mount, parsed.RelativeTo(DoraPath.Root));
    }
}
