using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.TestSupport;
using Google.Protobuf;
using Grpc.Core;

namespace Dora.Flight.IntegrationTests;

public sealed class AuthTests
{
    [Fact]
    public async Task With_a_token_every_call_needs_the_bearer_header_and_the_handshake_accepts_it_as_payload()
    {
        await using FlightCluster cluster = await FlightCluster.StartAsync(1, ufs => File.WriteAllText(Path.Combine(ufs, "a.txt"), "hello"), new FlightOptions { Tokens = Dora.Core.Security.TokenSet.Of("s3cret", "n3xt") });
        FlightClient client = cluster.Client(0);
        FlightDescriptor descriptor = FlightDescriptor.CreatePathDescriptor("/a.txt");

        var denied = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(descriptor).ResponseAsync.WaitAsync(TestTimeouts.Default));
        Assert.Equal(StatusCode.Unauthenticated, denied.StatusCode);
        Assert.Contains("authorization: Bearer", denied.Status.Detail, StringComparison.Ordinal);

        var wrong = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(descriptor, new Metadata { { "authorization", "Bearer guess" } }).ResponseAsync.WaitAsync(TestTimeouts.Default));
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);

        FlightInfo info = await client.GetInfo(descriptor, new Metadata { { "authorization", "Bearer s3cret" } }).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(5, info.TotalBytes);

        // While a new token is rolled out, both are accepted; a prefix of one is not.
        FlightInfo rotated = await client.GetInfo(descriptor, new Metadata { { "authorization", "Bearer n3xt" } }).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(5, rotated.TotalBytes);
        var prefix = await Assert.ThrowsAsync<RpcException>(() => client.GetInfo(descriptor, new Metadata { { "authorization", "Bearer s3cr" } }).ResponseAsync.WaitAsync(TestTimeouts.Default));
        Assert.Equal(StatusCode.Unauthenticated, prefix.StatusCode);

        using (var handshake = client.Handshake())
        {
            await handshake.RequestStream.WriteAsync(new FlightHandshakeRequest(ByteString.CopyFromUtf8("s3cret"))).WaitAsync(TestTimeouts.Default);
            await handshake.RequestStream.CompleteAsync().WaitAsync(TestTimeouts.Default);
            Assert.True(await handshake.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default));
            Assert.Equal("s3cret", handshake.ResponseStream.Current.Payload.ToStringUtf8());
        }

        var badHandshake = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var handshake = client.Handshake();
            await handshake.RequestStream.WriteAsync(new FlightHandshakeRequest(ByteString.CopyFromUtf8("nope"))).WaitAsync(TestTimeouts.Default);
            await handshake.RequestStream.CompleteAsync().WaitAsync(TestTimeouts.Default);
            await handshake.ResponseStream.MoveNext(default).WaitAsync(TestTimeouts.Default);
        });
        Assert.Equal(StatusCode.Unauthenticated, badHandshake.StatusCode);
    }
}
