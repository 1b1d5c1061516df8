using Dora.TestSupport;

namespace Dora.Fuse.IntegrationTests;

/// <summary>
/// Read-around: a small read that misses the kernel's page cache brings its whole window into it, so nearby reads are
/// answered by the kernel; and what the kernel caches is always of the file's current version.
/// </summary>
public sealed class ReadAroundTests
{
    // Reads LENGTH bytes at each OFFSET from both files with the kernel's read-ahead off (random access), and compares.
    private const string CompareScript = """
        import os, sys
        src, mnt, length = sys.argv[1], sys.argv[2], int(sys.argv[3])
        a, b = os.open(src, os.O_RDONLY), os.open(mnt, os.O_RDONLY)
        os.posix_fadvise(b, 0, 0, os.POSIX_FADV_RANDOM)
        for at in map(int, sys.argv[4:]):
            assert os.pread(a, length, at) == os.pread(b, length, at), at
        print("ok")
        """;

    [Fact]
    public async Task A_small_read_brings_its_window_into_the_kernel_cache_and_nearby_reads_stay_there()
    {
        await using var cluster = await MountedCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "data.bin"), 8 << 20, 21));
        string script = WriteScript(cluster);
        const long window = 3L << 20;
        await Compare(cluster, script, window + 8192);
        await WaitUntilAsync(() => cluster.FileSystem.Counters.ReadAroundBytes >= 1 << 20);

        long readsBefore = cluster.FileSystem.Counters.Reads;
        var random = new Random(4);
        long[] nearby = [.. Enumerable.Range(0, 64).Select(_ => window + (random.Next(256) * 4096L))];
        await Compare(cluster, script, nearby);
        Assert.Equal(readsBefore, cluster.FileSystem.Counters.Reads);

        // Another window is not there yet: the kernel asks for it.
        await Compare(cluster, script, (5L << 20) + 4096);
        Assert.True(cluster.FileSystem.Counters.Reads > readsBefore);
    }

    [Fact]
    public async Task A_file_replaced_with_the_same_size_and_mtime_is_read_anew_not_from_the_cache_of_the_old_version()
    {
        // Attributes never cached by the kernel, so each open asks the mount, which asks the workers.
        await using var cluster = await MountedCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "data.bin"), 2 << 20, 31), ttl: TimeSpan.Zero);
        string script = WriteScript(cluster);
        string source = Path.Combine(cluster.Source, "data.bin");
        await Compare(cluster, script, 4096, (1 << 20) + 4096);
        await WaitUntilAsync(() => cluster.FileSystem.Counters.ReadAroundBytes >= 2 << 20);
        Assert.Equal(await cluster.MustAsync("sha256sum < \"$SRC/data.bin\""), await cluster.MustAsync("sha256sum < \"$MNT/data.bin\""));

        // The same length and modification time, other bytes: only the version (the file's identity) tells them apart.
        DateTime modified = File.GetLastWriteTimeUtc(source);
        string replacement = source + ".new";
        TestFiles.Write(replacement, 2 << 20, 32);
        File.SetLastWriteTimeUtc(replacement, modified);
        File.Move(replacement, source, overwrite: true);
        await cluster.Client.InvalidateAsync("/data.bin").Within();

        Assert.Equal(await cluster.MustAsync("sha256sum < \"$SRC/data.bin\""), await cluster.MustAsync("sha256sum < \"$MNT/data.bin\""));
        await Compare(cluster, script, 4096, (1 << 20) + 4096);
    }

    private static string WriteScript(MountedCluster cluster)
    {
        string path = Path.Combine(cluster.Source, "..", "compare.py");
        File.WriteAllText(path, CompareScript);
        return path;
    }

    private static async Task Compare(MountedCluster cluster, string script, params long[] offsets) =>
        Assert.Equal("ok\n", await cluster.MustAsync($"/usr/bin/python3 \"{script}\" \"$SRC/data.bin\" \"$MNT/data.bin\" 4096 {string.Join(' ', offsets)}"));

    // The push into the kernel's cache runs after the reply; this waits for it (or fails after the test timeout).
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (!condition())
        {
            await Task.Delay(10, deadline.Token);
        }
    }
}
