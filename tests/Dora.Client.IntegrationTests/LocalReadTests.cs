using Dora.Core.Errors;
using Dora.Core.Protocol;
using Dora.Registry;
using Dora.TestSupport;

namespace Dora.Client.IntegrationTests;

/// <summary>
/// Short-circuit reads: LOCATE tells a client on the worker's host where the cached pages are, and
/// <see cref="LocalPageReader"/> reads them from their files only while they are the files the worker checked.
/// </summary>
public sealed class LocalReadTests : IAsyncLifetime
{
    private const int Length = (40 * TestCluster.PageSize) + 123;
    private TestCluster _cluster = null!;
    private byte[] _bytes = [];

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(2, ufs =>
        {
            _bytes = TestFiles.Write(Path.Combine(ufs, "local.bin"), Length, seed: 7);
            TestFiles.Write(Path.Combine(ufs, "cold.bin"), 3 * TestCluster.PageSize, seed: 8);
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Cached_pages_are_read_from_their_files_and_match_the_source()
    {
        string version = await CacheAsync("/local.bin");
        using var reader = new LocalPageReader(_cluster.Client);
        var buffer = new byte[Length - 1000];
        Assert.Equal(buffer.Length, await reader.ReadAsync("/local.bin", version, 1000, buffer, default).AsTask().Within());
        Assert.Equal(_bytes.AsSpan(1000).ToArray(), buffer);
        Assert.InRange(reader.Locates, 1, 3); // 41 pages, at least 16 per LOCATE
        Assert.Equal(41, OwnerEngine("/local.bin").Metrics.StreamLocatedPages);
    }

    [Fact]
    public async Task Pages_that_are_not_cached_are_left_to_the_network_read()
    {
        StatReply status = await _cluster.Client.StatAsync("/cold.bin").Within();
        using var reader = new LocalPageReader(_cluster.Client);
        Assert.Equal(0, await reader.ReadAsync("/cold.bin", status.ETag!, 0, new byte[100], default).AsTask().Within());
    }

    [Fact]
    public async Task A_page_file_evicted_or_written_to_after_it_was_opened_is_not_read_again_and_the_network_read_serves_the_source()
    {
        string version = await CacheAsync("/local.bin");
        WorkerRecord owner = _cluster.Client.Cluster.OwnersOf("/local.bin", 1)[0];
        LocateReply located = await _cluster.Client.LocateAsync(owner, "/local.bin", 0, 2L * TestCluster.PageSize, version).Within();
        using var reader = new LocalPageReader(_cluster.Client);
        Assert.Equal(10, await reader.ReadAsync("/local.bin", version, 0, new byte[10], default).AsTask().Within());
        Assert.Equal(10, await reader.ReadAsync("/local.bin", version, TestCluster.PageSize, new byte[10], default).AsTask().Within());

        // Page 0 damaged in place, page 1 evicted (its file unlinked): both change the file's change time.
        using (var damage = new FileStream(located.Pages[0].File, FileMode.Open, FileAccess.Write))
        {
            damage.Position = located.Pages[0].DataOffset + 20;
            damage.Write(new byte[16]);
        }

        await _cluster.Client.EvictAsync("/local.bin").Within();
        Assert.Equal(0, await reader.ReadAsync("/local.bin", version, 20, new byte[16], default).AsTask().Within());
        Assert.Equal(0, await reader.ReadAsync("/local.bin", version, TestCluster.PageSize + 20, new byte[16], default).AsTask().Within());

        var buffer = new byte[2 * TestCluster.PageSize];
        Assert.Equal(buffer.Length, await _cluster.Client.ReadAsync("/local.bin", 0, buffer).Within());
        Assert.Equal(_bytes.AsSpan(0, buffer.Length).ToArray(), buffer);
    }

    [Fact]
    public async Task A_locate_of_another_version_or_past_the_end_is_refused()
    {
        string version = await CacheAsync("/local.bin");
        WorkerRecord owner = _cluster.Client.Cluster.OwnersOf("/local.bin", 1)[0];
        await Assert.ThrowsAsync<VersionMismatchException>(() => _cluster.Client.LocateAsync(owner, "/local.bin", 0, 100, "not-" + version)).Within();
        var past = await Assert.ThrowsAsync<WorkerRequestException>(() => _cluster.Client.LocateAsync(owner, "/local.bin", Length + 1, 100, version)).Within();
        Assert.Equal(ErrorCode.InvalidRange, past.Code);
        LocateReply tail = await _cluster.Client.LocateAsync(owner, "/local.bin", Length - 1, 1L << 40, version).Within();
        Assert.Equal(40, Assert.Single(tail.Pages).Index);
        Assert.Equal(123, tail.Pages[0].Length);
    }

    // Reads the whole file through the client (so its owner caches every page) and waits for the page writes.
    private async Task<string> CacheAsync(string path)
    {
        StatReply status = await _cluster.Client.StatAsync(path).Within();
        var whole = new byte[status.Length];
        Assert.Equal(whole.Length, await _cluster.Client.ReadAsync(path, 0, whole).Within());
        await OwnerEngine(path).Pages.WhenIdleAsync(default).Within();
        return status.ETag!;
    }

    private Dora.Worker.Reading.StorageEngine OwnerEngine(string path) =>
        _cluster.Cluster.Workers[_cluster.IndexOf(_cluster.Client.Cluster.OwnersOf(path, 1)[0].Id)].Engine;
}
