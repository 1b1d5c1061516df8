using Dora.TestSupport;

namespace Dora.Client.IntegrationTests;

/// <summary>The zero-copy path: cached, verified pages sent with sendfile must carry exactly the right bytes.</summary>
public sealed class SendfileTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    public async Task Hot_reads_are_byte_exact_whether_pages_go_out_with_sendfile_or_a_copy(int threshold)
    {
        await using TestCluster test = await TestCluster.StartAsync(2, ufs => TestFiles.Write(Path.Combine(ufs, "f.bin"), (40 * TestCluster.PageSize) + 123, seed: 5), sendfileThreshold: threshold);
        byte[] expected = await File.ReadAllBytesAsync(Path.Combine(test.UfsPath, "f.bin"));
        var whole = new byte[expected.Length];
        Assert.Equal(expected.Length, await test.Client.ReadAsync("/f.bin", 0, whole).Within());
        await test.Cluster.Workers[test.IndexOf(test.Client.Cluster.OwnerOf("/f.bin").Id)].Engine.Pages.WhenIdleAsync(CancellationToken.None).Within();

        var random = new Random(11);
        var buffer = new byte[3 * TestCluster.PageSize];
        for (int i = 0; i < 200; i++)
        {
            long offset = random.NextInt64(expected.Length);
            int length = random.Next(1, buffer.Length);
            int read = await test.Client.ReadAsync("/f.bin", offset, buffer.AsMemory(0, length)).Within();
            Assert.Equal((int)Math.Min(length, expected.Length - offset), read);
            Assert.True(expected.AsSpan((int)offset, read).SequenceEqual(buffer.AsSpan(0, read)), $"wrong bytes at {offset}+{length}");
        }

        var metrics = test.Cluster.Workers[test.IndexOf(test.Client.Cluster.OwnerOf("/f.bin").Id)].Engine.Metrics;
        Assert.True(metrics.StreamRequests >= 201);
        if (threshold == 0)
        {
            Assert.True(metrics.StreamBytesSendfile > 0, "no byte went out with sendfile");
        }
        else
        {
            Assert.Equal(0, metrics.StreamBytesSendfile);
            Assert.True(metrics.StreamBytesCopied > expected.Length);
        }
    }
}
