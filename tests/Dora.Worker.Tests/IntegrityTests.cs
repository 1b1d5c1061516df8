using Dora.Core.Paths;
using Dora.TestSupport;
using Dora.Worker.Pages;

namespace Dora.Worker.Tests;

/// <summary>Never a wrong byte: damage on disk is caught before bytes leave the page store, whenever it happened.</summary>
public sealed class IntegrityTests
{
    private const int PageSize = 16 * 1024;

    /// <summary>Where page data starts in a page file of this store (4 KiB of header and checksums).</summary>
    private const int DataOffset = 4096;

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(PageSize - 1)]
    public async Task A_byte_flipped_after_the_page_was_checked_is_caught_by_the_next_read_that_touches_it(int flipped)
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 3 * PageSize, seed: 4);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        TestEngine.FlipByte(t.PageFile(1), DataOffset + flipped);

        // A read that does not touch the damaged block is served (its own blocks are intact) ...
        int block = flipped / 4096;
        int other = block == 0 ? 3 : 0;
        var untouched = await t.ReadAsync("/f.bin", PageSize + (other * 4096) + 10, 100);
        Assert.Equal(bytes.AsSpan(PageSize + (other * 4096) + 10, 100).ToArray(), untouched);
        Assert.Equal(0, t.Metrics.ChecksumFailures);

        // ... and the first read that touches it gets the right bytes from the source, the damage counted and healed.
        long readsBefore = t.Ufs.Reads;
        var touching = await t.ReadAsync("/f.bin", PageSize + flipped, 1);
        Assert.Equal(bytes[PageSize + flipped], touching.Single());
        Assert.Equal(1, t.Metrics.ChecksumFailures);
        Assert.Equal(readsBefore + 1, t.Ufs.Reads);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task A_damaged_header_or_checksum_table_is_caught_too()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 5);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        TestEngine.FlipByte(t.PageFile(0), 32 + 8);
        Assert.Equal(bytes.AsSpan(4096, 4096).ToArray(), await t.ReadAsync("/f.bin", 4096, 4096));
        Assert.Equal(1, t.Metrics.ChecksumFailures);

        // After a restart every page is checked whole on its first read, header included.
        TestEngine.FlipByte(t.PageFile(1), 16);
        t.Reopen();
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task A_truncated_page_file_is_caught_and_refetched()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 6);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        using (var stream = new FileStream(t.PageFile(1), FileMode.Open, FileAccess.Write))
        {
            stream.SetLength(DataOffset + 5000);
        }

        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task A_zero_copy_send_refuses_a_page_file_changed_since_it_was_checked()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 2 * PageSize, seed: 7);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        var file = await t.Engine.OpenAsync(DoraPath.Parse("/f.bin"), default).Within();
        using (var intact = t.Pages.TryOpenChecked(file.Source, 0, 0, PageSize))
        {
            Assert.NotNull(intact);
        }

        TestEngine.FlipByte(t.PageFile(0), DataOffset + 5);
        Assert.Null(t.Pages.TryOpenChecked(file.Source, 0, 0, PageSize));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));

        // Refetched and written anew, the page goes out zero-copy again.
        using var healed = t.Pages.TryOpenChecked(file.Source, 0, 0, PageSize);
        Assert.NotNull(healed);
    }

    [Fact]
    public async Task A_page_file_whose_change_time_moved_but_whose_bytes_are_intact_is_checked_and_kept()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", PageSize, seed: 8);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        var file = await t.Engine.OpenAsync(DoraPath.Parse("/f.bin"), default).Within();

        // Setting the modification time changes the change time too, and no byte.
        File.SetLastWriteTimeUtc(t.PageFile(0), new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        using var page = t.Pages.TryOpenChecked(file.Source, 0, 0, PageSize);
        Assert.NotNull(page);
        Assert.Equal(0, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task Verify_finds_damage_in_every_page()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", (3 * PageSize) + 5, seed: 9);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        TestEngine.FlipByte(t.PageFile(3), DataOffset + 4);
        var reply = await t.Engine.VerifyAsync(DoraPath.Parse("/f.bin"), 0, null, default).Within();
        Assert.Equal((4, 3), (reply.Pages, reply.IntactPages));
        Assert.Equal([3L], reply.MissingPages);
        Assert.Equal(1, t.Metrics.ChecksumFailures);
    }

    [Fact]
    public async Task The_scrubber_finds_damage_in_pages_nobody_reads()
    {
        using var t = new TestEngine(PageSize);
        var bytes = t.WriteFile("f.bin", 4 * PageSize, seed: 10);
        await t.ReadAsync("/f.bin", 0, bytes.Length);
        TestEngine.FlipByte(t.PageFile(2), DataOffset + 9000);
        var (checkedPages, damaged) = await t.Pages.ScrubAsync(bytesPerSecond: 0, TimeProvider.System, default).Within();
        Assert.Equal((4, 1), (checkedPages, damaged));
        Assert.Equal(1, t.Metrics.ChecksumFailures);
        Assert.Equal(3, t.Pages.PageCount);
        Assert.Equal(4, t.Metrics.ScrubbedPages);
        Assert.Equal(bytes, await t.ReadAsync("/f.bin", 0, bytes.Length));
    }

    [Fact]
    public async Task The_scrubber_reads_no_faster_than_its_rate()
    {
        using var t = new TestEngine(PageSize);
        t.WriteFile("f.bin", 10 * PageSize, seed: 11);
        await t.ReadAsync("/f.bin", 0, 10 * PageSize);
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();

        // Four pages a second: each page is followed by a quarter second's pause, on the fake clock.
        long rate = 4 * (PageSize + DataOffset);
        var pass = t.Pages.ScrubAsync(rate, time, default);
        var start = time.GetUtcNow();
        while (!pass.IsCompleted)
        {
            // Whenever looked at, the pages checked so far fit in the fake time that has passed.
            double elapsed = (time.GetUtcNow() - start).TotalSeconds;
            long pages = t.Metrics.ScrubbedPages;
            Assert.True(pages <= (long)(elapsed / 0.25) + 1, $"{pages} pages checked after {elapsed} s");
            time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(1);
        }

        Assert.Equal((10, 0), await pass.Within());
    }
}
