using Dora.TestSupport;

namespace Dora.Fuse.IntegrationTests;

/// <summary>A mount on the owner's host reads cached pages from the page files themselves (spliced), byte for byte.</summary>
public sealed class LocalPagesTests
{
    [Fact]
    public async Task Reads_of_cached_pages_come_from_the_page_files_on_this_host()
    {
        await using var cluster = await MountedCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "data.bin"), (6 << 20) + 777, 41));
        string sum = await cluster.MustAsync("sha256sum < \"$SRC/data.bin\"");
        Assert.Equal(sum, await cluster.MustAsync("sha256sum < \"$MNT/data.bin\"")); // cold: over the network, caching every page
        await cluster.Cluster.Workers[0].Engine.Pages.WhenIdleAsync(default).Within();
        FuseCounters before = cluster.FileSystem.Counters;

        // The kernel's copy dropped, so the kernel asks the mount again; the pages are now cached on this host.
        string reread = """
            import hashlib, os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            digest = hashlib.sha256()
            while chunk := os.read(fd, 1 << 20):
                digest.update(chunk)
            print(digest.hexdigest() + "  -")
            """;
        File.WriteAllText(Path.Combine(cluster.Source, "..", "reread.py"), reread);
        Assert.Equal(sum, await cluster.MustAsync("/usr/bin/python3 \"$SRC/../reread.py\" \"$MNT/data.bin\""));
        FuseCounters after = cluster.FileSystem.Counters;
        Assert.True(after.LocalBytes - before.LocalBytes >= 6 << 20, $"{after.LocalBytes - before.LocalBytes} bytes read from page files");

        // Replies that fit the splice pipes are spliced from the page files, not copied (how many fit depends on the
        // READ sizes the kernel chooses and on the pipe size this system allows).
        Assert.True(after.SplicedBytes > before.SplicedBytes, "no reply was spliced");
    }
}
