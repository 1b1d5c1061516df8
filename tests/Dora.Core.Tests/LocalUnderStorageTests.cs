using Dora.Core.Errors;
using Dora.Core.UnderStorage;
using Dora.TestSupport;

namespace Dora.Core.Tests;

public sealed class LocalUnderStorageTests : IDisposable
{
    private readonly TemporaryDirectory _temp = new("ufs");
    private readonly string _root;

    public LocalUnderStorageTests()
    {
        _root = _temp.Combine("root");
        Directory.CreateDirectory(_root);
    }

    [Fact]
    public async Task Positioned_reads_return_the_exact_bytes()
    {
        var bytes = TestFiles.Write(Path.Combine(_root, "d", "f.bin"), 100_000, seed: 1);
        using var ufs = new LocalUnderStorage(_root);
        var status = await ufs.StatAsync("d/f.bin", default).Within();
        var buffer = new byte[5000];
        var read = await ufs.ReadAsync("d/f.bin", status.Fingerprint, 12_345, buffer, default).Within();
        Assert.Equal(5000, read);
        Assert.Equal(bytes.AsSpan(12_345, 5000).ToArray(), buffer);

        var tail = await ufs.ReadAsync("d/f.bin", status.Fingerprint, 99_990, buffer, default).Within();
        Assert.Equal(10, tail);
    }

    [Fact]
    public async Task Stat_reports_length_time_and_kind()
    {
        TestFiles.Write(Path.Combine(_root, "d", "f.bin"), 777, seed: 2);
        using var ufs = new LocalUnderStorage(_root);
        var file = await ufs.StatAsync("d/f.bin", default).Within();
        Assert.False(file.IsDirectory);
        Assert.Equal(777, file.Length);
        Assert.Equal(File.GetLastWriteTimeUtc(Path.Combine(_root, "d", "f.bin")), file.LastModified.UtcDateTime);
        var dir = await ufs.StatAsync("d", default).Within();
        Assert.True(dir.IsDirectory);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => ufs.StatAsync("nope", default).AsTask()).Within();
    }

    [Fact]
    public async Task A_read_refuses_a_file_that_changed_since_its_fingerprint()
    {
        var path = Path.Combine(_root, "f.bin");
        TestFiles.Write(path, 1000, seed: 3);
        using var ufs = new LocalUnderStorage(_root);
        var before = await ufs.StatAsync("f.bin", default).Within();
        TestFiles.Write(path, 2000, seed: 4);
        var error = await Assert.ThrowsAsync<FileChangedException>(() => ufs.ReadAsync("f.bin", before.Fingerprint, 0, new byte[10], default).AsTask()).Within();
        Assert.True(error.IsTransient);
        Assert.Contains("changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_same_length_rewrite_with_its_modification_time_restored_is_a_new_version()
    {
        // What cp -p, rsync -t and touch -d leave behind: same length, same mtime, other bytes.
        var path = Path.Combine(_root, "f.bin");
        TestFiles.Write(path, 1000, seed: 3);
        using var ufs = new LocalUnderStorage(_root);
        var before = await ufs.StatAsync("f.bin", default).Within();
        DateTime mtime = File.GetLastWriteTimeUtc(path);
        TestFiles.Write(path, 1000, seed: 4);
        File.SetLastWriteTimeUtc(path, mtime);
        var after = await ufs.StatAsync("f.bin", default).Within();
        Assert.Equal((before.Length, before.LastModified), (after.Length, after.LastModified));
        Assert.NotEqual(before.Fingerprint, after.Fingerprint);
        var error = await Assert.ThrowsAsync<FileChangedException>(() => ufs.ReadAsync("f.bin", before.Fingerprint, 0, new byte[10], default).AsTask()).Within();
        Assert.Contains("changed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_replaced_by_a_rename_is_a_new_version_and_an_untouched_one_keeps_its_version()
    {
        var path = Path.Combine(_root, "f.bin");
        TestFiles.Write(path, 1000, seed: 3);
        using var ufs = new LocalUnderStorage(_root);
        var before = await ufs.StatAsync("f.bin", default).Within();
        Assert.Equal(before.Fingerprint, (await ufs.StatAsync("f.bin", default).Within()).Fingerprint);
        Assert.Equal(before.ETag, (await ufs.ListAsync(string.Empty, null, 10, default).Within()).Entries.Single().ETag);

        // rsync writes a temporary file and renames it over the old one, copying the modification time.
        var temporary = Path.Combine(_root, ".f.bin.tmp");
        TestFiles.Write(temporary, 1000, seed: 4);
        File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(path));
        File.Move(temporary, path, overwrite: true);
        var after = await ufs.StatAsync("f.bin", default).Within();
        Assert.NotEqual(before.ETag, after.ETag);
    }

    [Fact]
    public async Task Symbolic_links_that_leave_the_root_are_rejected()
    {
        var outside = _temp.Combine("outside");
        TestFiles.Write(Path.Combine(outside, "secret.txt"), 10, seed: 5);
        File.CreateSymbolicLink(Path.Combine(_root, "escape.txt"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "escape-dir"), outside);
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "sub", "up"), "../../outside");
        using var ufs = new LocalUnderStorage(_root);

        foreach (var path in new[] { "escape.txt", "escape-dir/secret.txt", "sub/up/secret.txt", "escape-dir" })
        {
            var error = await Assert.ThrowsAsync<InvalidPathException>(() => ufs.StatAsync(path, default).AsTask()).Within();
            Assert.Contains("outside the mount root", error.Message, StringComparison.Ordinal);
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<InvalidPathException>(() => ufs.ReadAsync("escape.txt", default, 0, new byte[1], default).AsTask()).Within();
        await Assert.ThrowsAsync<InvalidPathException>(() => ufs.ListAsync("escape-dir", null, 10, default).AsTask()).Within();
        var listing = await ufs.ListAsync(string.Empty, null, 10, default).Within();
        Assert.DoesNotContain(listing.Entries, e => e.Name.StartsWith("escape", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Symbolic_links_inside_the_root_are_followed()
    {
        var bytes = TestFiles.Write(Path.Combine(_root, "data", "real.bin"), 64, seed: 6);
        File.CreateSymbolicLink(Path.Combine(_root, "alias.bin"), "data/real.bin");
        using var ufs = new LocalUnderStorage(_root);
        var status = await ufs.StatAsync("alias.bin", default).Within();
        Assert.Equal(64, status.Length);
        var buffer = new byte[64];
        Assert.Equal(64, await ufs.ReadAsync("alias.bin", status.Fingerprint, 0, buffer, default).Within());
        Assert.Equal(bytes, buffer);
    }

    [Fact]
    public async Task A_symbolic_link_loop_is_an_error_not_a_hang()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "a"), "b");
        File.CreateSymbolicLink(Path.Combine(_root, "b"), "a");
        using var ufs = new LocalUnderStorage(_root);
        var error = await Assert.ThrowsAsync<InvalidPathException>(() => ufs.StatAsync("a", default).AsTask()).Within();
        Assert.Contains("symbolic links", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_is_paged_in_name_order()
    {
        var names = Enumerable.Range(0, 57).Select(i => $"file-{i:D3}").ToList();
        foreach (var name in names)
        {
            File.WriteAllText(Path.Combine(_root, name), name);
        }

        Directory.CreateDirectory(Path.Combine(_root, "zz-dir"));
        using var ufs = new LocalUnderStorage(_root);
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await ufs.ListAsync(string.Empty, token, 10, default).Within();
            Assert.True(page.Entries.Count <= 10);
            seen.AddRange(page.Entries.Select(e => e.Name));
            token = page.NextToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(6, pages);
        Assert.Equal([.. names, "zz-dir"], seen);
        var last = await ufs.ListAsync(string.Empty, "file-056", 10, default).Within();
        Assert.True(Assert.Single(last.Entries).IsDirectory);
        Assert.Null(last.NextToken);
    }

    [Fact]
    public async Task Listing_a_file_or_a_missing_folder_is_a_clear_error()
    {
        File.WriteAllText(Path.Combine(_root, "f"), "x");
        using var ufs = new LocalUnderStorage(_root);
        await Assert.ThrowsAsync<InvalidPathException>(() => ufs.ListAsync("f", null, 10, default).AsTask()).Within();
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => ufs.ListAsync("missing", null, 10, default).AsTask()).Within();
    }

    public void Dispose() => _temp.Dispose();
}
