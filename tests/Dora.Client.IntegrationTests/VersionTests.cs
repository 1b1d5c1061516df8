using Dora.Core.Errors;
using Dora.TestSupport;

namespace Dora.Client.IntegrationTests;

/// <summary>A file replaced at its source while clients read it: one version per reader, never a mix.</summary>
public sealed class VersionTests : IAsyncLifetime
{
    private const int Length = 80 * TestCluster.PageSize;
    private TestCluster _cluster = null!;
    private byte[] _before = [];

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(3, ufs => _before = TestFiles.Write(Path.Combine(ufs, "data", "big.bin"), Length, seed: 1));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string Source => Path.Combine(_cluster.UfsPath, "data", "big.bin");

    [Fact]
    public async Task A_stream_over_a_file_replaced_mid_read_fails_instead_of_mixing_versions()
    {
        await using Stream stream = await _cluster.Client.OpenReadAsync("/data/big.bin").Within();
        var head = new byte[TestCluster.PageSize];
        await stream.ReadExactlyAsync(head).Within();
        Assert.Equal(_before.AsSpan(0, head.Length).ToArray(), head);

        TestFiles.RewriteKeepingLengthAndTime(Source, seed: 2);
        stream.Position = Length / 2;
        var error = await Assert.ThrowsAsync<VersionMismatchException>(() => stream.ReadExactlyAsync(new byte[TestCluster.PageSize]).AsTask()).Within();
        Assert.Contains("/data/big.bin", error.Message, StringComparison.Ordinal);

        // A synchronous reader (Parquet footers are read that way) is held to its version the same way.
        using Stream again = await _cluster.Client.OpenReadAsync("/data/big.bin").Within();
        again.ReadExactly(new byte[10]);
        TestFiles.RewriteKeepingLengthAndTime(Source, seed: 3);
        await _cluster.Client.InvalidateAsync("/data/big.bin").Within();
        again.Position = Length - 20;
        Assert.Throws<VersionMismatchException>(() => again.ReadExactly(new byte[10]));
    }

    [Fact]
    public async Task A_single_read_spanning_old_cached_pages_and_the_changed_source_is_all_one_version()
    {
        var buffer = new byte[TestCluster.PageSize];
        Assert.Equal(buffer.Length, await _cluster.Client.ReadAsync("/data/big.bin", 0, buffer).Within());
        foreach (var worker in _cluster.Cluster.Workers)
        {
            await worker.Engine.Pages.WhenIdleAsync(default).Within();
        }

        var after = TestFiles.RewriteKeepingLengthAndTime(Source, seed: 4);
        var whole = new byte[4 * TestCluster.PageSize];
        Assert.Equal(whole.Length, await _cluster.Client.ReadAsync("/data/big.bin", 0, whole).Within());
        Assert.Equal(after.AsSpan(0, whole.Length).ToArray(), whole);
    }

    [Fact]
    public async Task Invalidate_and_evict_reach_every_worker()
    {
        var whole = new byte[Length];
        await _cluster.Client.ReadAsync("/data/big.bin", 0, whole).Within();
        foreach (var worker in _cluster.Cluster.Workers)
        {
            await worker.Engine.Pages.WhenIdleAsync(default).Within();
        }

        var after = TestFiles.RewriteKeepingLengthAndTime(Source, seed: 5);
        var invalidated = await _cluster.Client.InvalidateAsync("/data/big.bin").Within();
        Assert.True(invalidated.Exists);
        Assert.Equal(80, invalidated.DroppedPages);
        Assert.Equal(invalidated.Version, (await _cluster.Client.StatAsync("/data/big.bin").Within()).ETag);
        await _cluster.Client.ReadAsync("/data/big.bin", 0, whole).Within();
        Assert.Equal(after, whole);
        foreach (var worker in _cluster.Cluster.Workers)
        {
            await worker.Engine.Pages.WhenIdleAsync(default).Within();
        }

        var evicted = await _cluster.Client.EvictAsync("/data/big.bin").Within();
        Assert.Equal(80, evicted.DroppedPages);
        Assert.Equal(0, (await _cluster.Client.StatAsync("/data/big.bin").Within()).CachedBytes);

        var recursive = await _cluster.Client.InvalidateAsync("/data", recursive: true).Within();
        Assert.True(recursive.Recursive);
        Assert.Null(recursive.Version);
    }
}
