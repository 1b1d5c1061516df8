using System.Globalization;
using Dora.Core.Errors;
using Dora.Core.Protocol;
using Dora.TestSupport;
using Parquet;
using Parquet.Schema;

namespace Dora.Client.IntegrationTests;

public sealed class ClientReadTests : IAsyncLifetime
{
    private static readonly int[] Sizes = [0, 1, 1000, TestCluster.PageSize, (3 * TestCluster.PageSize) + 17, 5 << 20];
    private readonly Dictionary<string, byte[]> _files = [];
    private TestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync(3, ufs =>
        {
            Directory.CreateDirectory(Path.Combine(ufs, "data"));
            for (int i = 0; i < Sizes.Length; i++)
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"/data/file-{i}.bin");
                _files[name] = TestFiles.Write(Path.Combine(ufs, "data", $"file-{i}.bin"), Sizes[i], seed: i);
            }
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Random_range_reads_across_the_cluster_are_byte_exact()
    {
        var random = new Random(7);
        var buffer = new byte[300_000];
        foreach (int round in Enumerable.Range(0, 300))
        {
            (string path, byte[] expected) = _files.ElementAt(random.Next(_files.Count));
            long offset = expected.Length == 0 ? 0 : random.NextInt64(expected.Length + 1);
            int length = random.Next(buffer.Length);
            int read = await _cluster.Client.ReadAsync(path, offset, buffer.AsMemory(0, length)).Within();
            int expectedCount = (int)Math.Min(length, expected.Length - offset);
            Assert.True(expectedCount == read, $"round {round}: {path} at {offset}+{length} read {read}, expected {expectedCount}");
            Assert.True(expected.AsSpan((int)offset, read).SequenceEqual(buffer.AsSpan(0, read)), $"round {round}: wrong bytes in {path} at {offset}");
        }

        // Each file was served by its owner on the ring, and only by it.
        var owners = _files.Keys.Select(path => _cluster.IndexOf(_cluster.Client.Cluster.OwnerOf(path).Id)).ToHashSet();
        for (int worker = 0; worker < _cluster.Storages.Length; worker++)
        {
            Assert.True(owners.Contains(worker) == (_cluster.Storages[worker].Stats > 0), $"worker {worker}: owner {owners.Contains(worker)}, stats {_cluster.Storages[worker].Stats}");
        }
    }

    [Fact]
    public async Task Many_concurrent_readers_get_their_own_bytes()
    {
        byte[] big = _files["/data/file-5.bin"];
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async reader =>
        {
            var random = new Random(reader);
            var buffer = new byte[200_000];
            for (int i = 0; i < 40; i++)
            {
                long offset = random.NextInt64(big.Length - buffer.Length);
                int read = await _cluster.Client.ReadAsync("/data/file-5.bin", offset, buffer).Within();
                Assert.Equal(buffer.Length, read);
                Assert.True(big.AsSpan((int)offset, read).SequenceEqual(buffer), $"reader {reader} got wrong bytes at {offset}");
            }
        }));
    }

    [Fact]
    public async Task A_stream_reads_seeks_and_copies_the_whole_file()
    {
        byte[] expected = _files["/data/file-4.bin"];
        await using Stream stream = await _cluster.Client.OpenReadAsync("/data/file-4.bin").Within();
        Assert.Equal(expected.Length, stream.Length);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy).Within();
        Assert.Equal(expected, copy.ToArray());

        stream.Seek(-10, SeekOrigin.End);
        var tail = new byte[100];
        Assert.Equal(10, await stream.ReadAsync(tail).Within());
        Assert.Equal(expected[^10..], tail[..10]);
        Assert.Equal(0, await stream.ReadAsync(tail).Within());

        // Synchronous reads too, byte by byte and in blocks, after seeking.
        stream.Position = 1000;
        Assert.Equal(expected[1000], stream.ReadByte());
        var block = new byte[150_000];
        stream.ReadExactly(block);
        Assert.Equal(expected.AsSpan(1001, block.Length).ToArray(), block);
        stream.Position = expected.Length;
        Assert.Equal(-1, stream.ReadByte());
    }

    [Fact]
    public async Task Synchronous_reads_wake_when_their_answer_arrives()
    {
        // Parquet footers are parsed with synchronous Stream reads. Each of these 1,000 reads used to sleep out a 100 ms
        // poll after its answer had arrived (100 s in all); answered at once, they take well under the test timeout.
        byte[] expected = _files["/data/file-3.bin"];
        _ = await _cluster.Client.ReadAsync("/data/file-3.bin", 0, new byte[expected.Length]).Within();
        await Task.Run(() =>
        {
            var one = new byte[64];
            for (int i = 0; i < 1000; i++)
            {
                int offset = (i * 997) % (expected.Length - one.Length);
                Assert.Equal(one.Length, _cluster.Client.Read("/data/file-3.bin", offset, one));
                Assert.True(expected.AsSpan(offset, one.Length).SequenceEqual(one), $"read {i} at {offset}");
            }
        }).Within();
    }

    [Fact]
    public void A_cancelled_synchronous_read_returns_at_once()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => _cluster.Client.Read("/data/file-5.bin", 0, new byte[1 << 20], cancelled.Token));
    }

    [Fact]
    public async Task Parquet_reads_through_the_stream_equal_a_direct_read()
    {
        string local = Path.Combine(_cluster.UfsPath, "data", "trips.parquet");
        await WriteParquetAsync(local);
        var direct = await ReadParquetAsync(File.OpenRead(local));
        await using Stream stream = await _cluster.Client.OpenReadAsync("/data/trips.parquet").Within();
        var throughDora = await ReadParquetAsync(stream);

        Assert.Equal(direct.Count, throughDora.Count);
        for (int i = 0; i < direct.Count; i++)
        {
            Assert.Equal(direct[i], throughDora[i]);
        }
    }

    [Fact]
    public async Task Stat_and_list_come_from_the_owner()
    {
        StatReply stat = await _cluster.Client.StatAsync("/data/file-4.bin").Within();
        Assert.Equal(_files["/data/file-4.bin"].Length, stat.Length);
        Assert.False(stat.IsDirectory);
        Assert.Equal("file-4.bin", stat.Name);

        var names = new List<string>();
        await foreach (ListEntry entry in _cluster.Client.ListAllAsync("/data"))
        {
            names.Add(entry.Name);
        }

        Assert.Equal(_files.Keys.Select(p => p["/data/".Length..]).Order(StringComparer.Ordinal), names.Where(n => n.EndsWith(".bin", StringComparison.Ordinal)));
        ListReply page = await _cluster.Client.ListAsync("/data", limit: 2).Within();
        Assert.Equal(2, page.Entries.Count);
        Assert.NotNull(page.Next);
    }

    [Fact]
    public async Task Every_worker_reports_its_health_over_the_page_stream()
    {
        foreach (var worker in _cluster.Client.Cluster.Membership.Workers)
        {
            HealthReply health = await _cluster.Client.HealthAsync(worker).Within();
            Assert.Equal(worker.Id, health.WorkerId);
            Assert.Equal("ok", health.Status);
            Assert.Equal(256L << 20, health.CacheCapacityBytes);
            Assert.True(health.StreamConnections >= 1);
        }
    }

    [Fact]
    public async Task Bad_requests_get_clear_errors()
    {
        var buffer = new byte[10];
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => _cluster.Client.ReadAsync("/data/missing.bin", 0, buffer)).Within();
        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => _cluster.Client.StatAsync("/nope")).Within();
        await Assert.ThrowsAsync<InvalidPathException>(() => _cluster.Client.ReadAsync("/data/../etc", 0, buffer)).Within();
        var range = await Assert.ThrowsAsync<WorkerRequestException>(() => _cluster.Client.ReadAsync("/data/file-2.bin", 5000, buffer)).Within();
        Assert.Equal(ErrorCode.InvalidRange, range.Code);
        Assert.False(range.IsTransient);
        var directory = await Assert.ThrowsAsync<WorkerRequestException>(() => _cluster.Client.ReadAsync("/data", 0, buffer)).Within();
        Assert.Equal(ErrorCode.InvalidPath, directory.Code);
        Assert.Equal(0, await _cluster.Client.ReadAsync("/data/file-2.bin", 1000, buffer).Within());
    }

    [Fact]
    public async Task A_cancelled_read_never_writes_into_the_callers_buffer_afterwards()
    {
        byte[] big = _files["/data/file-5.bin"];
        for (int i = 0; i < 20; i++)
        {
            var buffer = new byte[big.Length];
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(i));
            try
            {
                await _cluster.Client.ReadAsync("/data/file-5.bin", 0, buffer, cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Array.Clear(buffer);
                await Task.Delay(20);
                Assert.True(buffer.All(b => b == 0), "bytes landed after the read was cancelled");
            }
        }

        // The connection is still good afterwards.
        var check = new byte[1000];
        Assert.Equal(1000, await _cluster.Client.ReadAsync("/data/file-5.bin", 12345, check).Within());
        Assert.Equal(big.AsSpan(12345, 1000).ToArray(), check);
    }

    private static async Task WriteParquetAsync(string path)
    {
        var id = new DataField<long>("id");
        var fare = new DataField<double>("fare");
        var zone = new DataField<string>("zone");
        var schema = new ParquetSchema(id, fare, zone);
        await using var file = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(schema, file);
        for (int group = 0; group < 3; group++)
        {
            int rows = 20_000;
            long[] ids = [.. Enumerable.Range(group * rows, rows).Select(i => (long)i)];
            double[] fares = [.. ids.Select(i => (i % 977) * 1.25)];
            string[] zones = [.. ids.Select(i => $"zone-{i % 263}")];
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            await rowGroup.WriteAsync<long>(id, ids);
            await rowGroup.WriteAsync<double>(fare, fares);
            await rowGroup.WriteAsync(zone, zones);
        }
    }

    /// <summary>Every value of every row group, as text, read with Parquet.Net from <paramref name="stream"/>.</summary>
    private static async Task<List<string>> ReadParquetAsync(Stream stream)
    {
        await using (stream)
        {
            await using ParquetReader reader = await ParquetReader.CreateAsync(stream);
            DataField[] fields = reader.Schema.GetDataFields();
            var values = new List<string>();
            for (int group = 0; group < reader.RowGroupCount; group++)
            {
                using ParquetRowGroupReader rowGroup = reader.OpenRowGroupReader(group);
                int rows = (int)rowGroup.RowCount;
                var ids = new long[rows];
                var fares = new double[rows];
                var zones = new string?[rows];
                await rowGroup.ReadAsync<long>(fields[0], ids);
                await rowGroup.ReadAsync<double>(fields[1], fares);
                await rowGroup.ReadAsync(fields[2], zones.AsMemory());
                for (int row = 0; row < rows; row++)
                {
                    values.Add(string.Create(CultureInfo.InvariantCulture, $"{ids[row]}|{fares[row]}|{zones[row]}"));
                }
            }

            return values;
        }
    }
}
