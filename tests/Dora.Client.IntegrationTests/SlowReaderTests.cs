using System.Net.Sockets;
using Dora.Core.Protocol;
using Dora.TestSupport;
using Dora.Worker.PageStream;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Client.IntegrationTests;

/// <summary>A client that asks for pages and stops reading cannot hold the worker's buffers, nor its connection, for long.</summary>
public sealed class SlowReaderTests : IAsyncLifetime
{
    private const int Length = 16 << 20;
    private readonly FakeTimeProvider _time = new();
    private TestCluster _cluster = null!;
    private byte[] _file = [];

    public async Task InitializeAsync()
    {
        var stream = new PageStreamOptions { MaxBufferedPages = 4, MaxBufferedPagesPerConnection = 2, Time = _time };
        _cluster = await TestCluster.StartAsync(1, ufs => _file = TestFiles.Write(Path.Combine(ufs, "big.bin"), Length, seed: 1), sendfileThreshold: int.MaxValue, stream: stream);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_stalled_reader_holds_no_more_than_its_share_and_is_closed_at_the_minimum_data_rate()
    {
        // A raw client with a tiny receive window asks for the whole file and never reads a byte.
        using var stalled = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync("127.0.0.1", _cluster.Cluster.Workers[0].StreamPort).WaitAsync(TestTimeouts.Default);
        var frame = new byte[256];
        var hello = new PayloadWriter(frame);
        hello.WriteU16(ProtocolConstants.Version);
        hello.WriteString(string.Empty);
        hello.WriteString("stalled");
        await stalled.SendAsync(frame.AsMemory(0, hello.Finish(FrameType.Hello, FrameBits.None, 1)));
        for (int i = 0; i < 16; i++)
        {
            var read = new PayloadWriter(frame);
            read.WriteString("/big.bin");
            read.WriteI64(i * (1L << 20));
            read.WriteI64(1 << 20);
            await stalled.SendAsync(frame.AsMemory(0, read.Finish(FrameType.Read, FrameBits.None, (ulong)(i + 2))));
        }

        // Another client still gets every byte: the stalled connection holds at most 2 of the worker's 4 page buffers.
        var buffer = new byte[Length];
        Assert.Equal(Length, await _cluster.Client.ReadAsync("/big.bin", 0, buffer).Within());
        Assert.True(_file.AsSpan().SequenceEqual(buffer));

        // On the worker's clock the stalled frame's time runs out (5 s grace, then 64 KiB/s), and the connection goes.
        var metrics = _cluster.Cluster.Workers[0].Engine.Metrics;
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (metrics.StreamSlowReaders == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the stalled connection was never closed");
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.True(_time.GetUtcNow() - _time.Start >= TimeSpan.FromSeconds(5));
    }
}
