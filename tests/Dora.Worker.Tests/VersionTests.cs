using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.TestSupport;

namespace Dora.Worker.Tests;

/// <summary>Versions that cannot be confused: a changed source is never served from old pages, in any consistency mode.</summary>
public sealed class VersionTests
{
    private const int PageSize = 16 * 1024;

    [Fact]
    public async Task A_same_length_rewrite_with_its_mtime_restored_is_read_anew_in_always_mode()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Always);
        var path = Path.Combine(t.UfsRoot, "f.bin");
        var before = t.WriteFile("f.bin", 3 * PageSize, seed: 1);
        Assert.Equal(before, await t.ReadAsync("/f.bin", 0, before.Length));
        var after = TestFiles.RewriteKeepingLengthAndTime(path, seed: 2);
        Assert.Equal(after, await t.ReadAsync("/f.bin", 0, after.Length));

        // The old version's pages went when the new version was seen.
        Assert.Equal(3, t.Pages.PageCount);
    }

    [Theory]
    [InlineData(ConsistencyMode.Ttl)]
    [InlineData(ConsistencyMode.Immutable)]
    [InlineData(ConsistencyMode.Always)]
    public async Task Invalidate_looks_at_the_file_again_and_drops_the_old_versions_pages_at_once(ConsistencyMode mode)
    {
        using var t = new TestEngine(PageSize, consistency: mode);
        var path = Path.Combine(t.UfsRoot, "f.bin");
        var before = t.WriteFile("f.bin", 3 * PageSize, seed: 1);
        Assert.Equal(before, await t.ReadAsync("/f.bin", 0, before.Length));
        var oldVersion = (await t.Engine.GetStatusAsync(DoraPath.Parse("/f.bin"), default).Within()).ETag;
        var after = TestFiles.RewriteKeepingLengthAndTime(path, seed: 2);

        var reply = await t.Engine.InvalidateAsync(DoraPath.Parse("/f.bin"), recursive: false, default).Within();
        Assert.True(reply.Exists);
        Assert.NotEqual(oldVersion, reply.Version);
        Assert.Equal(3, reply.DroppedPages);
        Assert.Equal(0, t.Pages.PageCount);
        Assert.Equal(after, await t.ReadAsync("/f.bin", 0, after.Length));

        // Unchanged since, an invalidation drops nothing.
        var again = await t.Engine.InvalidateAsync(DoraPath.Parse("/f.bin"), recursive: false, default).Within();
        Assert.Equal((reply.Version, 0L), (again.Version, again.DroppedPages));
    }

    [Fact]
    public async Task A_recursive_invalidate_makes_every_file_below_be_looked_at_again()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Immutable);
        t.WriteFile("d/a.bin", PageSize, seed: 1);
        t.WriteFile("d/e/b.bin", PageSize, seed: 2);
        await t.ReadAsync("/d/a.bin", 0, PageSize);
        await t.ReadAsync("/d/e/b.bin", 0, PageSize);
        var a = TestFiles.RewriteKeepingLengthAndTime(Path.Combine(t.UfsRoot, "d", "a.bin"), seed: 3);
        var b = TestFiles.RewriteKeepingLengthAndTime(Path.Combine(t.UfsRoot, "d", "e", "b.bin"), seed: 4);

        var reply = await t.Engine.InvalidateAsync(DoraPath.Parse("/d"), recursive: true, default).Within();
        Assert.True(reply.Exists);
        Assert.Null(reply.Version);
        Assert.Equal(a, await t.ReadAsync("/d/a.bin", 0, PageSize));
        Assert.Equal(b, await t.ReadAsync("/d/e/b.bin", 0, PageSize));
        Assert.Equal(2, t.Pages.PageCount);
    }

    [Fact]
    public async Task A_file_changed_while_partly_cached_fails_clearly_once_then_is_read_whole_from_its_new_version()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Ttl, ttl: TimeSpan.FromHours(1));
        var path = Path.Combine(t.UfsRoot, "f.bin");
        t.WriteFile("f.bin", 4 * PageSize, seed: 1);
        await t.ReadAsync("/f.bin", 0, PageSize);
        var after = TestFiles.RewriteKeepingLengthAndTime(path, seed: 2);

        // The cached status (valid for an hour) still names the old version: its first page is cached, the second is
        // not, and the under storage no longer has that version. The read fails naming the change, never mixing.
        var error = await Assert.ThrowsAsync<FileChangedException>(() => t.ReadAsync("/f.bin", 0, after.Length));
        Assert.True(error.IsTransient);
        Assert.Contains("f.bin", error.Message, StringComparison.Ordinal);

        // The failure dropped the stale status: the next read gets the new version whole.
        Assert.Equal(after, await t.ReadAsync("/f.bin", 0, after.Length));
    }

    [Fact]
    public async Task A_read_pinned_to_a_version_is_refused_once_the_file_is_another_version()
    {
        using var t = new TestEngine(PageSize, consistency: ConsistencyMode.Always);
        t.WriteFile("f.bin", 2 * PageSize, seed: 1);
        var path = DoraPath.Parse("/f.bin");
        var version = (await t.Engine.GetStatusAsync(path, default).Within()).ETag!;
        var opened = await t.Engine.OpenAsync(path, version, default).Within();
        Assert.Equal(version, opened.Status.ETag);

        TestFiles.RewriteKeepingLengthAndTime(Path.Combine(t.UfsRoot, "f.bin"), seed: 2);
        var error = await Assert.ThrowsAsync<VersionMismatchException>(() => t.Engine.OpenAsync(path, version, default).AsTask()).Within();
        Assert.Contains(version, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Evict_drops_the_current_versions_pages()
    {
        using var t = new TestEngine(PageSize);
        t.WriteFile("f.bin", (2 * PageSize) + 1, seed: 1);
        await t.ReadAsync("/f.bin", 0, (2 * PageSize) + 1);
        var reply = await t.Engine.EvictAsync(DoraPath.Parse("/f.bin"), default).Within();
        Assert.Equal(3, reply.DroppedPages);
        Assert.Equal(0, t.Pages.PageCount);
    }
}
