using System.Net;
using System.Net.Sockets;
using Dora.Core.Protocol;
using Dora.TestSupport;
using Dora.Worker.PageStream;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Client.IntegrationTests;

/// <summary>
/// Peers that connect and never finish their HELLO: each is closed after the HELLO deadline, and however many there
/// are, they hold only the slots kept for connections still to authenticate, so clients that do authenticate are served.
/// </summary>
public sealed class HelloFloodTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private TestCluster _test = null!;
    private byte[] _expected = [];

    private int StreamPort => _test.Cluster.Workers[0].StreamPort;

    public async Task InitializeAsync()
    {
        _test = await TestCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "f.bin"), 100_000, seed: 4), streamToken: "s3cret",
            clientOptions: new DoraClientOptions { AuthToken = "s3cret", FallbackToUnderStorage = false },
            stream: new PageStreamOptions { Time = _time, MaxConnections = 16, MaxPendingConnections = 64, MaxPendingPerAddress = 8 });
        _expected = await File.ReadAllBytesAsync(Path.Combine(_test.UfsPath, "f.bin"));
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    /// <summary>A connection from <paramref name="local"/> (a loopback address of its own) that sends half a HELLO header.</summary>
    private async Task<Socket> HalfHelloAsync(string local)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
        await socket.ConnectAsync(IPAddress.Loopback, StreamPort).WaitAsync(TestTimeouts.Default);
        byte[] header = new byte[FrameHeader.Size];
        new FrameHeader(FrameType.Hello, FrameBits.None, 1, 40).Write(header);
        await socket.SendAsync(header.AsMemory(0, FrameHeader.Size / 2)).AsTask().WaitAsync(TestTimeouts.Default);
        return socket;
    }

    /// <summary>True once the server closed the connection (after any error frame it sent).</summary>
    private static async Task AssertClosedAsync(Socket socket)
    {
        var buffer = new byte[256];
        while (await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(TestTimeouts.Default) != 0)
        {
        }
    }

    /// <summary>Reads through the worker (no fallback to the under storage), with the test's client or a new one.</summary>
    private async Task AssertClientServedAsync(DoraClient? client = null)
    {
        var buffer = new byte[20_000];
        Assert.Equal(buffer.Length, await (client ?? _test.Client).ReadAsync("/f.bin", 777, buffer).Within());
        Assert.Equal(_expected.AsSpan(777, buffer.Length).ToArray(), buffer);
    }

    [Fact]
    public async Task A_half_hello_is_closed_at_the_hello_deadline()
    {
        using Socket silent = await HalfHelloAsync("127.0.0.3");
        Task closed = AssertClosedAsync(silent);
        while (!closed.IsCompleted)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(closed, Task.Delay(20));
        }

        await closed;
        Assert.True(_time.GetUtcNow() - _time.Start >= TimeSpan.FromSeconds(5) - TimeSpan.FromSeconds(1));
        await AssertClientServedAsync();
    }

    [Fact]
    public async Task A_flood_of_half_hellos_from_many_addresses_leaves_authenticated_clients_served()
    {
        var flood = new List<Socket>();
        try
        {
            // 12 addresses x 10 connections, far more than the 16 served connections: each address keeps 8, and all of
            // them together at most the 64 slots kept for connections still to authenticate, oldest given up first.
            for (int a = 0; a < 12; a++)
            {
                for (int c = 0; c < 10; c++)
                {
                    flood.Add(await HalfHelloAsync($"127.0.1.{a + 1}"));
                }
            }

            // A client already connected, and a new one that must say HELLO while the flood holds its slots.
            await AssertClientServedAsync();
            await using DoraClient fresh = await DoraClient.ConnectAsync(_test.Cluster.Registry, new DoraClientOptions { AuthToken = "s3cret", FallbackToUnderStorage = false }).Within();
            await AssertClientServedAsync(fresh);
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }
    }
}
