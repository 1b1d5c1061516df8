using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Dora.Core.Protocol;
using Dora.TestSupport;

namespace Dora.Client.IntegrationTests;

/// <summary>Hand-made frames against a real worker: every bad one closes only its own connection.</summary>
public sealed class ProtocolRobustnessTests : IAsyncLifetime
{
    private TestCluster _test = null!;
    private byte[] _expected = [];

    private int StreamPort => _test.Cluster.Workers[0].StreamPort;

    public async Task InitializeAsync()
    {
        _test = await TestCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "f.bin"), 300_000, seed: 9), streamToken: "s3cret",
            clientOptions: new DoraClientOptions { AuthToken = "s3cret" });
        _expected = await File.ReadAllBytesAsync(Path.Combine(_test.UfsPath, "f.bin"));
    }

    public async Task DisposeAsync() => await _test.DisposeAsync();

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", StreamPort).WaitAsync(TestTimeouts.Default);
        return socket;
    }

    private static byte[] Frame(FrameType type, ulong id, Action<PayloadBuilder> payload)
    {
        var builder = new PayloadBuilder();
        payload(builder);
        byte[] frame = new byte[FrameHeader.Size + builder.Bytes.Count];
        new FrameHeader(type, FrameBits.None, id, builder.Bytes.Count).Write(frame);
        builder.Bytes.CopyTo(frame, FrameHeader.Size);
        return frame;
    }

    private static byte[] Hello(string token = "s3cret", ushort version = ProtocolConstants.Version) =>
        Frame(FrameType.Hello, 1, p => p.U16(version).Str(token).Str("test"));

    /// <summary>Reads one frame: its header and payload.</summary>
    private static async Task<(FrameHeader Header, byte[] Payload)> ReceiveAsync(Socket socket)
    {
        byte[] header = new byte[FrameHeader.Size];
        await ReceiveExactlyAsync(socket, header);
        FrameHeader frame = FrameHeader.TryRead(header, 64 << 20, out string? problem, out _) ?? throw new InvalidDataException(problem);
        byte[] payload = new byte[frame.PayloadLength];
        await ReceiveExactlyAsync(socket, payload);
        return (frame, payload);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int received = await socket.ReceiveAsync(buffer).AsTask().WaitAsync(TestTimeouts.Default);
            if (received == 0)
            {
                throw new IOException("closed");
            }

            buffer = buffer[received..];
        }
    }

    private static (ErrorCode Code, string Message) ParseError(byte[] payload)
    {
        var reader = new PayloadReader(payload);
        return ((ErrorCode)reader.ReadU16(), reader.ReadString());
    }

    private static async Task AssertClosedAsync(Socket socket)
    {
        var one = new byte[1];
        Assert.Equal(0, await socket.ReceiveAsync(one.AsMemory()).AsTask().WaitAsync(TestTimeouts.Default));
    }

    private async Task AssertClientStillServedAsync()
    {
        var buffer = new byte[50_000];
        Assert.Equal(buffer.Length, await _test.Client.ReadAsync("/f.bin", 1234, buffer).Within());
        Assert.Equal(_expected.AsSpan(1234, buffer.Length).ToArray(), buffer);
    }

    [Theory]
    [InlineData("oversized")]
    [InlineData("reserved-bits")]
    [InlineData("not-hello")]
    [InlineData("short-length")]
    public async Task A_malformed_first_frame_gets_an_error_frame_and_only_that_connection_closes(string kind)
    {
        await AssertClientStillServedAsync();
        using Socket socket = await ConnectAsync();
        byte[] frame = kind switch
        {
            "oversized" => Header(uint.MaxValue, 0x01),
            "reserved-bits" => Header(12, 0x01, reserved: 7),
            "not-hello" => Frame(FrameType.Read, 5, p => p.Str("/f.bin").I64(0).I64(10)),
            _ => Header(3, 0x01),
        };
        await socket.SendAsync(frame);

        (FrameHeader header, byte[] payload) = await ReceiveAsync(socket);
        Assert.Equal(FrameType.Error, header.Type);
        Assert.Equal(0UL, header.RequestId);
        (ErrorCode code, string message) = ParseError(payload);
        Assert.Equal(kind == "oversized" ? ErrorCode.FrameTooLarge : ErrorCode.BadFrame, code);
        Assert.False(string.IsNullOrWhiteSpace(message));
        await AssertClosedAsync(socket);
        await AssertClientStillServedAsync();
    }

    [Fact]
    public async Task A_wrong_version_or_token_is_refused_with_its_own_code()
    {
        using (Socket socket = await ConnectAsync())
        {
            await socket.SendAsync(Hello(version: 99));
            Assert.Equal(ErrorCode.UnsupportedVersion, ParseError((await ReceiveAsync(socket)).Payload).Code);
            await AssertClosedAsync(socket);
        }

        using (Socket socket = await ConnectAsync())
        {
            await socket.SendAsync(Hello(token: "guess"));
            Assert.Equal(ErrorCode.Unauthenticated, ParseError((await ReceiveAsync(socket)).Payload).Code);
            await AssertClosedAsync(socket);
        }

        await using DoraClient noToken = await DoraClient.ConnectAsync(_test.Cluster.Registry, new DoraClientOptions { FallbackToUnderStorage = false }).Within();
        var error = await Assert.ThrowsAsync<WorkerRequestException>(() => noToken.ReadAsync("/f.bin", 0, new byte[10])).Within();
        Assert.Equal(ErrorCode.Unauthenticated, error.Code);
        Assert.False(error.IsTransient);
        Assert.Contains("requires a token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_level_problems_answer_that_request_and_the_connection_goes_on()
    {
        using Socket socket = await ConnectAsync();
        await socket.SendAsync(Hello());
        Assert.Equal(FrameType.HelloOk, (await ReceiveAsync(socket)).Header.Type);

        await socket.SendAsync(Frame(FrameType.Ping, 77, p => p.Raw([1, 2, 3])));
        (FrameHeader pong, byte[] echoed) = await ReceiveAsync(socket);
        Assert.Equal((FrameType.Pong, 77UL), (pong.Type, pong.RequestId));
        Assert.Equal([1, 2, 3], echoed);

        await socket.SendAsync(Frame(FrameType.Read, 8, p => p.Str("/../x").I64(0).I64(10)));
        (FrameHeader bad, byte[] badPayload) = await ReceiveAsync(socket);
        Assert.Equal((FrameType.Error, 8UL, ErrorCode.InvalidPath), (bad.Type, bad.RequestId, ParseError(badPayload).Code));

        await socket.SendAsync(Frame(FrameType.Read, 9, p => p.Str("/f.bin").I64(299_990).I64(100)));
        (FrameHeader data, byte[] bytes) = await ReceiveAsync(socket);
        Assert.Equal((FrameType.Data, 9UL, FrameBits.End), (data.Type, data.RequestId, data.Flags));
        Assert.Equal(299_990, BinaryPrimitives.ReadInt64LittleEndian(bytes));
        Assert.Equal(_expected[299_990..], bytes[8..]);

        await socket.SendAsync(Frame(FrameType.Stat, 10, p => p.Str("/missing")));
        (FrameHeader missing, byte[] missingPayload) = await ReceiveAsync(socket);
        Assert.Equal((FrameType.Error, 10UL, ErrorCode.NotFound), (missing.Type, missing.RequestId, ParseError(missingPayload).Code));

        // A request payload that does not parse closes the connection, with the reason.
        await socket.SendAsync(Frame(FrameType.Read, 11, p => p.Str("/f.bin").I64(0)));
        (FrameHeader closing, byte[] closingPayload) = await ReceiveAsync(socket);
        Assert.Equal((FrameType.Error, 0UL, ErrorCode.BadFrame), (closing.Type, closing.RequestId, ParseError(closingPayload).Code));
        await AssertClosedAsync(socket);
        await AssertClientStillServedAsync();
    }

    [Fact]
    public async Task Abrupt_disconnects_mid_frame_and_mid_response_do_not_disturb_other_clients()
    {
        for (int i = 0; i < 20; i++)
        {
            using Socket socket = await ConnectAsync();
            await socket.SendAsync(Hello());
            if (i % 2 == 0)
            {
                // Half a header, then gone.
                await socket.SendAsync(Header(100, 0x02)[..7]);
            }
            else
            {
                // A large read nobody waits for.
                await ReceiveAsync(socket);
                await socket.SendAsync(Frame(FrameType.Read, 2, p => p.Str("/f.bin").I64(0).I64(300_000)));
            }

            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
            await AssertClientStillServedAsync();
        }
    }

    private static byte[] Header(uint length, byte type, ushort reserved = 0)
    {
        byte[] header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(header, length);
        header[4] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), reserved);
        return header;
    }

    private sealed class PayloadBuilder
    {
        public List<byte> Bytes { get; } = [];

        public PayloadBuilder U16(ushort value)
        {
            Bytes.AddRange(BitConverter.GetBytes(value));
            return this;
        }

        public PayloadBuilder I64(long value)
        {
            Bytes.AddRange(BitConverter.GetBytes(value));
            return this;
        }

        public PayloadBuilder Str(string value)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(value);
            U16((ushort)utf8.Length);
            Bytes.AddRange(utf8);
            return this;
        }

        public PayloadBuilder Raw(byte[] value)
        {
            Bytes.AddRange(value);
            return this;
        }
    }
}
