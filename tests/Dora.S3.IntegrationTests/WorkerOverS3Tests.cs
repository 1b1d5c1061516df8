using Dora.Client;
using Dora.Core.Errors;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Registry.InProcess;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.S3.IntegrationTests;

/// <summary>Workers whose mount table mixes a local folder (at /) and an S3 prefix (at /lake), read through the client.</summary>
public sealed class WorkerOverS3Tests : IClassFixture<S3Fixture>, IDisposable
{
    private const int PageSize = 64 << 10;
    private readonly S3Fixture _s3;
    private readonly TemporaryDirectory _directory = new();

    public WorkerOverS3Tests(S3Fixture s3)
    {
        _s3 = s3;
        Directory.CreateDirectory(_directory.Combine("ufs"));
    }

    public void Dispose() => _directory.Dispose();

    private MountTable Mounts(ConsistencyMode lake = ConsistencyMode.Ttl, string prefix = "lake-root") => new(
    [
        new Mount(DoraPath.Root, new LocalUnderStorage(_directory.Combine("ufs"))),
        new Mount(DoraPath.Parse("/lake"), _s3.Storage(prefix), lake),
    ]);

    private WorkerOptions Options(int i, MountTable mounts) => new()
    {
        Mounts = mounts,
        Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(_directory.Combine($"cache-{i}", "pages"), 256L << 20)], PageSize = PageSize },
        Metadata = new MetadataOptions { DatabaseDirectory = _directory.Combine($"cache-{i}", "metadata") },
        HttpPort = 0,
        Stream = new() { Port = 0 },
    };

    private async Task<(LocalCluster Cluster, DoraClient Client)> StartAsync(int workers, ConsistencyMode lake = ConsistencyMode.Ttl)
    {
        LocalCluster cluster = await LocalCluster.StartAsync(workers, i => Options(i, Mounts(lake)), configureLogging: null, CancellationToken.None).Within();
        DoraClient client = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
        return (cluster, client);
    }

    /// <summary>Pages are written behind the reads: waits until every worker has written what it read.</summary>
    private static async Task IdleAsync(LocalCluster cluster)
    {
        foreach (WorkerHost worker in cluster.Workers)
        {
            await worker.Engine.Pages.WhenIdleAsync(CancellationToken.None).Within();
        }
    }

    private static async Task<byte[]> ReadAllAsync(DoraClient client, string path, long length)
    {
        byte[] bytes = new byte[length];
        for (int done = 0; done < length;)
        {
            int read = await client.ReadAsync(path, done, bytes.AsMemory(done, (int)Math.Min(1 << 20, length - done))).Within();
            Assert.True(read > 0);
            done += read;
        }

        return bytes;
    }

    [Fact]
    public async Task Reads_and_listings_go_to_the_longest_matching_mount_byte_exact()
    {
        byte[] lakeBytes = TestFiles.RandomBytes(2_500_000, 11);
        await _s3.PutAsync("lake-root/events/part-0.bin", lakeBytes);
        for (int i = 0; i < 30; i++)
        {
            await _s3.PutAsync($"lake-root/events/small-{i:D2}.bin", [(byte)i]);
        }

        byte[] localBytes = TestFiles.Write(_directory.Combine("ufs", "local.bin"), 700_000, 12);
        (LocalCluster cluster, DoraClient client) = await StartAsync(2);
        await using (cluster)
        await using (client)
        {
            var random = new Random(13);
            for (int i = 0; i < 40; i++)
            {
                (string path, byte[] bytes) = i % 2 == 0 ? ("/lake/events/part-0.bin", lakeBytes) : ("/local.bin", localBytes);
                int offset = random.Next(bytes.Length);
                byte[] buffer = new byte[random.Next(1, 400_000)];
                int read = await client.ReadAsync(path, offset, buffer).Within();
                Assert.Equal(Math.Min(buffer.Length, bytes.Length - offset), read);
                Assert.Equal(bytes.AsSpan(offset, read).ToArray(), buffer.AsSpan(0, read).ToArray());
            }

            Assert.Equal(lakeBytes, await ReadAllAsync(client, "/lake/events/part-0.bin", lakeBytes.Length));
            var names = new List<string>();
            await foreach (var entry in client.ListAllAsync("/lake/events"))
            {
                names.Add(entry.Name);
            }

            Assert.Equal(31, names.Count);
            Assert.Contains("part-0.bin", names);
            await IdleAsync(cluster);
            Assert.Equal(lakeBytes.Length, (await client.StatAsync("/lake/events/part-0.bin")).CachedBytes);
        }
    }

    [Fact]
    public async Task An_object_whose_etag_changed_is_read_anew_never_from_old_pages()
    {
        byte[] first = TestFiles.RandomBytes(300_000, 21);
        byte[] second = TestFiles.RandomBytes(300_000, 22);
        await _s3.PutAsync("lake-root/changing.bin", first);
        (LocalCluster cluster, DoraClient client) = await StartAsync(1, ConsistencyMode.Always);
        await using (cluster)
        await using (client)
        {
            Assert.Equal(first, await ReadAllAsync(client, "/lake/changing.bin", first.Length));
            await _s3.PutAsync("lake-root/changing.bin", second);
            Assert.Equal(second, await ReadAllAsync(client, "/lake/changing.bin", second.Length));
            await IdleAsync(cluster);
            Assert.Equal(second.Length, (await client.StatAsync("/lake/changing.bin")).CachedBytes);
        }
    }

    [Fact]
    public async Task Missing_keys_and_buckets_are_clear_errors()
    {
        (LocalCluster cluster, DoraClient client) = await StartAsync(1);
        await using (cluster)
        await using (client)
        {
            var missing = await Assert.ThrowsAsync<DoraFileNotFoundException>(() => client.StatAsync("/lake/no/such.bin"));
            Assert.Contains("/lake/no/such.bin", missing.Message, StringComparison.Ordinal);
        }

        var noBucket = new MountTable([new Mount(DoraPath.Root, new S3UnderStorage(S3Location.Parse(new Uri(_s3.Server.MountUri("absent-bucket"))), S3Fixture.Options))]);
        await using LocalCluster other = await LocalCluster.StartAsync(1, i => Options(10 + i, noBucket), configureLogging: null, CancellationToken.None).Within();
        await using DoraClient reader = await DoraClient.ConnectAsync(other.Registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
        var error = await Assert.ThrowsAnyAsync<DoraException>(() => reader.StatAsync("/x.bin"));
        Assert.Contains("the bucket 'absent-bucket' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_that_goes_away_mid_read_fails_clearly_and_caches_nothing_wrong()
    {
        byte[] bytes = TestFiles.RandomBytes(1_000_000, 31);
        await _s3.PutAsync("lake-root/outage.bin", bytes);
        (LocalCluster cluster, DoraClient client) = await StartAsync(1);
        await using (cluster)
        await using (client)
        {
            // The first half is read (and cached, with a few pages read ahead); then the server dies.
            byte[] firstHalf = new byte[500_000];
            Assert.Equal(firstHalf.Length, await client.ReadAsync("/lake/outage.bin", 0, firstHalf).Within());
            await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);
            await _s3.Server.StopAsync();
            try
            {
                var error = await Assert.ThrowsAnyAsync<DoraException>(() => client.ReadAsync("/lake/outage.bin", 900_000, new byte[90_000]));
                Assert.Contains("could not be reached", error.Message, StringComparison.Ordinal);
            }
            finally
            {
                await _s3.Server.StartAgainAsync();
            }

            // Back: every byte is right, whether it comes from the pages cached before or fetched now.
            Assert.Equal(bytes, await ReadAllAsync(client, "/lake/outage.bin", bytes.Length));
            await IdleAsync(cluster);
            Assert.Equal(bytes.Length, (await client.StatAsync("/lake/outage.bin")).CachedBytes);
        }
    }

    [Fact]
    public async Task Workers_and_clients_with_another_mount_table_are_refused_naming_both()
    {
        (LocalCluster cluster, DoraClient client) = await StartAsync(1);
        await using (cluster)
        await using (client)
        {
            // A second worker that mounts another S3 prefix at /lake must not join.
            var error = await Assert.ThrowsAsync<MountTableMismatchException>(() => WorkerHost.StartAsync(
                Options(5, Mounts(prefix: "other-root")) with { Registry = cluster.Registry }, configureLogging: null, CancellationToken.None).WithinAsync());
            Assert.Contains("other-root", error.Message, StringComparison.Ordinal);
            Assert.Contains("lake-root", error.Message, StringComparison.Ordinal);
            Assert.Single((await cluster.Registry.ReadAsync(default)).Workers);

            // A client that would fall back to other stores is refused too; with the same table it connects.
            await Assert.ThrowsAsync<MountTableMismatchException>(() => DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { UnderStorageMounts = Mounts(prefix: "other-root") }));
            await using DoraClient same = await DoraClient.ConnectAsync(cluster.Registry, new DoraClientOptions { UnderStorageMounts = Mounts() }).Within();
        }
    }
}

internal static class TaskExtensions
{
    public static Task<T> WithinAsync<T>(this Task<T> task) => task.WaitAsync(TestTimeouts.Default);
}
