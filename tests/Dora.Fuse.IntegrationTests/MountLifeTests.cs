using Dora.TestSupport;

namespace Dora.Fuse.IntegrationTests;

/// <summary>A mount through a worker failure, a DataLoader over it, its unmount, and the dora mount/umount commands.</summary>
public sealed class MountLifeTests
{
    [Fact]
    public async Task A_read_goes_on_when_the_owner_stops_mid_file_and_unmount_leaves_nothing_behind()
    {
        string mountPoint;
        await using (MountedCluster cluster = await MountedCluster.StartAsync(3, ufs => TestFiles.Write(Path.Combine(ufs, "f.bin"), 64 << 20, 8)))
        {
            mountPoint = cluster.MountPoint;
            string owner = cluster.Client.Cluster.OwnerOf("/f.bin").Id;
            int ownerIndex = cluster.Cluster.Workers.Select((w, i) => (w, i)).First(p => p.w.Identity.Id == owner).i;
            string script = """
                import hashlib, sys, time
                h = hashlib.sha256()
                with open(sys.argv[1], "rb", buffering=0) as f:
                    h.update(f.read(16 << 20))
                    print("half", flush=True)
                    sys.stdin.readline()          # the test stops the owner, then lets the read go on
                    while True:
                        chunk = f.read(1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
                print(h.hexdigest(), flush=True)
                """;
            string scriptPath = Path.Combine(cluster.Source, "..", "reader.py");
            File.WriteAllText(scriptPath, script);
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", [scriptPath, Path.Combine(mountPoint, "f.bin")])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            };
            using var reader = System.Diagnostics.Process.Start(start)!;
            Assert.Equal("half", await reader.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.Default));
            await cluster.Cluster.StopWorkerAsync(ownerIndex).Within();
            await reader.StandardInput.WriteLineAsync("go");
            await reader.StandardInput.FlushAsync();
            string digest = (await reader.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.Default))!;
            await reader.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            Assert.Equal((await cluster.MustAsync("sha256sum < \"$SRC/f.bin\"")).Split(' ')[0], digest);
            Assert.True(MountedCluster.IsMounted(mountPoint));
        }

        Assert.False(MountedCluster.IsMounted(mountPoint), "the mount outlived the file system");
    }

    [Fact]
    public async Task A_pytorch_dataloader_with_two_workers_reads_every_sample_once()
    {
        await using MountedCluster cluster = await MountedCluster.StartAsync(2, ufs =>
        {
            for (int i = 0; i < 400; i++)
            {
                File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(ufs, "train", $"class{i % 4}")).FullName, $"{i:D4}.txt"), $"sample {i}");
            }
        });
        string script = """
            import collections, os, sys
            import torch
            from torch.utils.data import DataLoader, Dataset
            class Folder(Dataset):
                def __init__(self, root):
                    self.paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
                def __len__(self):
                    return len(self.paths)
                def __getitem__(self, i):
                    with open(self.paths[i], "rb") as f:
                        return f.read().decode()
            seen = collections.Counter(s for batch in DataLoader(Folder(sys.argv[1]), batch_size=16, num_workers=2, shuffle=True) for s in batch)
            assert len(seen) == 400 and set(seen.values()) == {1}, seen.most_common(3)
            assert set(seen) == {f"sample {i}" for i in range(400)}
            print("ok")
            """;
        File.WriteAllText(Path.Combine(cluster.Source, "..", "loader.py"), script);
        Assert.Equal("ok\n", await cluster.MustAsync("/usr/bin/python3 \"$SRC/../loader.py\" \"$MNT/train\"", TimeSpan.FromMinutes(3)));
    }

    [Fact]
    public async Task A_reader_interrupted_while_its_read_waits_gets_out_at_once_and_the_mount_keeps_serving()
    {
        // Direct I/O (the always mode): a read(2) waits for its own READ, which a signal interrupts. (Buffered reads
        // wait for page-cache read-ahead, which only a fatal signal ends.)
        await using MountedCluster cluster = await MountedCluster.StartAsync(2, ufs => TestFiles.Write(Path.Combine(ufs, "slow.bin"), 3 << 20, 9), Dora.Core.Mounts.ConsistencyMode.Always);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (CountingUnderStorage storage in cluster.Storages)
        {
            storage.ReadGate = gate;
        }

        try
        {
            int before = cluster.UfsReads;
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3", ["-c", Script, Path.Combine(cluster.MountPoint, "slow.bin")]);
            using var reader = System.Diagnostics.Process.Start(start)!;
            while (cluster.UfsReads == before)
            {
                await Task.Delay(10);
            }

            // The read is stuck in the source; a signal the reader handles makes the kernel send INTERRUPT, answered
            // EINTR, and the handler ends the process while the source is still blocked.
            Assert.Equal(0, Kill(reader.Id, 10)); // SIGUSR1
            await reader.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            Assert.Equal(3, reader.ExitCode);
        }
        finally
        {
            gate.TrySetResult();
        }

        Assert.Equal((await cluster.MustAsync("sha256sum < \"$SRC/slow.bin\"")).Trim(), (await cluster.MustAsync("sha256sum < \"$MNT/slow.bin\"")).Trim());
    }

    // SIGINT may be ignored in a test host started in the background (and then Python ignores it too): SIGUSR1 with a
    // handler of the script's own is delivered whatever the environment.
    private const string Script = """
        import signal, sys
        def leave(signum, frame):
            sys.exit(3)
        signal.signal(signal.SIGUSR1, leave)
        open(sys.argv[1], "rb", buffering=0).read(4096)
        """;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
