using Dora.TestSupport;

namespace Dora.Fuse.IntegrationTests;

/// <summary>The mount compared with its source folder through the tools training jobs use.</summary>
public sealed class ReadToolsTests : IAsyncLifetime
{
    private MountedCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await MountedCluster.StartAsync(3, ufs =>
        {
            TestFiles.Write(Path.Combine(ufs, "tree", "small.bin"), 1000, 1);
            TestFiles.Write(Path.Combine(ufs, "tree", "pages.bin"), (3 << 20) + 12345, 2);
            TestFiles.Write(Path.Combine(ufs, "tree", "deep", "er", "more.bin"), 70_000, 3);
            TestFiles.Write(Path.Combine(ufs, "tree", "ünï cödé.txt"), 5000, 4);
            TestFiles.Write(Path.Combine(ufs, "tree", "empty.bin"), 0, 5);
            for (int i = 0; i < 1500; i++)
            {
                TestFiles.Write(Path.Combine(ufs, "wide", $"sample-{i:D5}.bin"), 100 + i, 10 + i);
            }

            TestFiles.Write(Path.Combine(ufs, "cold.bin"), 24 << 20, 7);
        });
        await _cluster.MustAsync("dd if=/dev/urandom of=\"$SRC/big.bin\" bs=1M count=1024 status=none && tar cf \"$SRC/shard-000.tar\" -C \"$SRC\" tree", TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Find_ls_and_sha256sum_see_what_the_source_folder_holds()
    {
        string Listing(string root) => $"cd \"{root}\" && find . | LC_ALL=C sort && find . -type f -printf '%p %s %TY-%Tm-%Td %TH:%TM\\n' | LC_ALL=C sort";
        Assert.Equal(await _cluster.MustAsync(Listing("$SRC")), await _cluster.MustAsync(Listing("$MNT")));
        string sums = "cd \"{0}\" && find tree wide -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum";
        Assert.Equal(await _cluster.MustAsync(string.Format(sums, "$SRC")), await _cluster.MustAsync(string.Format(sums, "$MNT")));
        string longListing = await _cluster.MustAsync("ls -lR \"$MNT/tree\"");
        Assert.Contains("-r--r--r--", longListing, StringComparison.Ordinal);
        Assert.Contains("dr-xr-xr-x", longListing, StringComparison.Ordinal);
        Assert.Equal("1500\n", await _cluster.MustAsync("ls \"$MNT/wide\" | wc -l"));
    }

    [Fact]
    public async Task Random_ranges_read_with_dd_match_the_source()
    {
        var random = new Random(3);
        for (int i = 0; i < 20; i++)
        {
            int block = random.Next(2) == 0 ? 4096 : 100_000;
            long skip = random.NextInt64((1L << 30) / block);
            await _cluster.MustAsync($"bash -c 'cmp <(dd if=\"$SRC/big.bin\" bs={block} skip={skip} count=3 status=none) <(dd if=\"$MNT/big.bin\" bs={block} skip={skip} count=3 status=none)'");
        }
    }

    [Fact]
    public async Task Python_seek_read_and_mmap_of_a_1_GiB_file_match_the_source()
    {
        string script = """
            import mmap, os, random, sys
            src, mnt = sys.argv[1], sys.argv[2]
            rng = random.Random(5)
            with open(src, "rb") as a, open(mnt, "rb") as b:
                assert os.fstat(b.fileno()).st_size == 1 << 30
                for _ in range(200):
                    at, n = rng.randrange(1 << 30), rng.choice([1, 4096, 65536, 1 << 20])
                    a.seek(at); b.seek(at)
                    assert a.read(n) == b.read(n), at
                m = mmap.mmap(b.fileno(), 0, access=mmap.ACCESS_READ)
                s = mmap.mmap(a.fileno(), 0, access=mmap.ACCESS_READ)
                for _ in range(200):
                    at = rng.randrange((1 << 30) - 8192)
                    assert m[at:at + 8192] == s[at:at + 8192], at
            print("ok")
            """;
        File.WriteAllText(Path.Combine(_cluster.Source, "..", "check.py"), script);
        Assert.Equal("ok\n", await _cluster.MustAsync("/usr/bin/python3 \"$SRC/../check.py\" \"$SRC/big.bin\" \"$MNT/big.bin\"", TimeSpan.FromMinutes(3)));
    }

    [Fact]
    public async Task Tar_lists_a_shard_and_cp_copies_a_tree()
    {
        Assert.Equal(await _cluster.MustAsync("tar tf \"$SRC/shard-000.tar\""), await _cluster.MustAsync("tar tf \"$MNT/shard-000.tar\""));
        await _cluster.MustAsync("rm -rf \"$SRC/../copy\" && cp -r \"$MNT/tree\" \"$SRC/../copy\" && diff -r \"$SRC/tree\" \"$SRC/../copy\"");
    }

    [Fact]
    public async Task Eight_concurrent_readers_of_a_cold_file_get_the_same_bytes_and_each_page_is_fetched_once()
    {
        int before = _cluster.UfsReads;
        string sums = await _cluster.MustAsync("for i in 1 2 3 4 5 6 7 8; do sha256sum < \"$MNT/cold.bin\" & done; wait");
        string[] lines = sums.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length);
        Assert.Single(lines.Distinct());
        Assert.Equal((await _cluster.MustAsync("sha256sum < \"$SRC/cold.bin\"")).Trim(), lines[0].Trim());
        Assert.Equal(24, _cluster.UfsReads - before); // 24 pages of 1 MiB, each read from the source once
    }

    [Fact]
    public async Task Every_write_fails_with_erofs_and_a_missing_file_with_enoent()
    {
        foreach (string write in new[] { "touch \"$MNT/tree/new\"", "echo x > \"$MNT/tree/small.bin\"", "rm \"$MNT/tree/small.bin\"", "mkdir \"$MNT/tree/d\"", "mv \"$MNT/tree/small.bin\" \"$MNT/tree/moved\"" })
        {
            var (exitCode, _, error) = await _cluster.ShAsync(write);
            Assert.True(exitCode != 0, write);
            Assert.Contains("Read-only file system", error, StringComparison.Ordinal);
        }

        var (code, _, missing) = await _cluster.ShAsync("cat \"$MNT/tree/nope\"");
        Assert.NotEqual(0, code);
        Assert.Contains("No such file or directory", missing, StringComparison.Ordinal);
        Assert.Equal("1000\n", await _cluster.MustAsync("stat -c %s \"$MNT/tree/small.bin\""));
    }
}
