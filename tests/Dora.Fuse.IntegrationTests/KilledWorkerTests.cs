using System.Text.RegularExpressions;
using Dora.Client;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Fuse.IntegrationTests;

/// <summary>A mount over worker processes in a real etcd, the owner of a file killed (SIGKILL) in the middle of a read.</summary>
public sealed partial class KilledWorkerTests
{
    [Fact]
    public async Task A_read_through_the_mount_survives_the_owner_process_being_killed()
    {
        using var directory = new TemporaryDirectory("fuse-kill");
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        byte[] data = TestFiles.Write(directory.Combine("ufs", "f.bin"), 48 << 20, 12);
        var workers = new List<(DoraProcess Process, string Id)>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                DoraProcess worker = DoraProcess.Start(directory.Path, "worker", "--ufs", "ufs", "--registry", etcd.RegistryAddress, "--cache-dir", $"cache-{i}",
                    "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "5");
                await worker.WaitForOutputAsync("is serving");
                workers.Add((worker, ServingLine().Match(worker.Output).Groups[1].Value));
            }

            await using var registry = new EtcdRegistry(new EtcdRegistryOptions { Endpoints = [etcd.ClientUrl] });
            await using DoraClient client = await DoraClient.ConnectAsync(registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
            while (client.Cluster.Membership.Workers.Count != 3)
            {
                await Task.Delay(20);
            }

            string mountPoint = Directory.CreateDirectory(directory.Combine("mnt")).FullName;
            await using (var fileSystem = new DoraFuseFileSystem(client, new FuseMountOptions { MountPoint = mountPoint }, NullLogger.Instance))
            {
                fileSystem.Start();
                string owner = client.Cluster.OwnerOf("/f.bin").Id;
                using var stream = new FileStream(Path.Combine(mountPoint, "f.bin"), FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
                var received = new byte[data.Length];
                await stream.ReadExactlyAsync(received.AsMemory(0, 8 << 20));
                workers.Single(w => w.Id == owner).Process.Kill9();
                await stream.ReadExactlyAsync(received.AsMemory(8 << 20));
                Assert.True(data.AsSpan().SequenceEqual(received), "the bytes read through the failover differ from the file");
            }

            Assert.False(FuseMounts.IsDoraMount(mountPoint));
        }
        finally
        {
            foreach ((DoraProcess process, _) in workers)
            {
                await process.DisposeAsync();
            }
        }
    }

    [GeneratedRegex(@"Dora worker (\S+) is serving")]
    private static partial Regex ServingLine();
}
