using Dora.Core.Errors;
using Dora.Core.UnderStorage;
using Dora.TestSupport;

namespace Dora.Core.Tests;

/// <summary>Writes to a local folder: invisible until committed, replacing atomically, discarded when abandoned.</summary>
public sealed class LocalWritesTests : IDisposable
{
    private readonly TemporaryDirectory _temp = new("ufs-writes");
    private readonly LocalUnderStorage _ufs;

    public LocalWritesTests()
    {
        Directory.CreateDirectory(_temp.Combine("root"));
        _ufs = new LocalUnderStorage(_temp.Combine("root"));
    }

    public void Dispose()
    {
        _ufs.Dispose();
        _temp.Dispose();
    }

    private string Local(string relative) => Path.Combine(_temp.Combine("root"), relative);

    [Fact]
    public async Task A_committed_file_replaces_the_old_one_whole_and_open_readers_keep_the_old_bytes()
    {
        byte[] old = TestFiles.Write(Local("b/k.bin"), 50_000, seed: 1);
        await using var reader = new FileStream(Local("b/k.bin"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        byte[] fresh = TestFiles.RandomBytes(80_000, seed: 2);
        await using (IUfsWriter writer = await _ufs.CreateAsync("b/k.bin", default).Within())
        {
            await writer.WriteAsync(fresh.AsMemory(0, 30_000), default);
            await writer.WriteAsync(fresh.AsMemory(30_000), default);
            Assert.Equal(old, File.ReadAllBytes(Local("b/k.bin")));
            Assert.Equal(["k.bin"], (await _ufs.ListAsync("b", null, 100, default)).Entries.Select(e => e.Name));
            UfsFileStatus status = await writer.CommitAsync(default).Within();
            Assert.Equal(80_000, status.Length);
        }

        Assert.Equal(fresh, File.ReadAllBytes(Local("b/k.bin")));
        byte[] kept = new byte[old.Length];
        reader.ReadExactly(kept);
        Assert.Equal(old, kept);
        Assert.Single(Directory.GetFiles(Local("b")));
    }

    [Fact]
    public async Task An_abandoned_write_leaves_nothing_and_parents_are_made()
    {
        await using (IUfsWriter writer = await _ufs.CreateAsync("new/deep/dir/x.bin", default).Within())
        {
            await writer.WriteAsync(new byte[1000], default);
        }

        Assert.True(Directory.Exists(Local("new/deep/dir")));
        Assert.Empty(Directory.GetFileSystemEntries(Local("new/deep/dir")));
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => _ufs.StatAsync("new/deep/dir/x.bin", default).AsTask()).Within();
    }

    [Fact]
    public async Task Writing_over_a_directory_or_below_a_file_is_refused_naming_the_path()
    {
        Directory.CreateDirectory(Local("d/sub"));
        File.WriteAllText(Local("f.txt"), "file");
        var directory = await Assert.ThrowsAsync<InvalidPathException>(() => _ufs.CreateAsync("d/sub", default).AsTask()).Within();
        Assert.Contains("/d/sub", directory.Message, StringComparison.Ordinal);
        var belowFile = await Assert.ThrowsAsync<InvalidPathException>(() => _ufs.CreateAsync("f.txt/x", default).AsTask()).Within();
        Assert.Contains("/f.txt", belowFile.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_removes_files_and_empty_directories_only()
    {
        File.WriteAllText(Local("f.txt"), "file");
        Directory.CreateDirectory(Local("empty"));
        Directory.CreateDirectory(Local("full"));
        File.WriteAllText(Local("full/x"), "x");
        Assert.True(await _ufs.DeleteAsync("f.txt", default));
        Assert.False(File.Exists(Local("f.txt")));
        Assert.False(await _ufs.DeleteAsync("f.txt", default));
        Assert.True(await _ufs.DeleteAsync("empty", default));
        await Assert.ThrowsAsync<InvalidPathException>(() => _ufs.DeleteAsync("full", default).AsTask());
        Assert.True(File.Exists(Local("full/x")));
    }
}
