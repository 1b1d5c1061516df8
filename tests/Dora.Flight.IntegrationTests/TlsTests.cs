using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.Core.Security;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Grpc.Net.Client;

namespace Dora.Flight.IntegrationTests;

/// <summary>Flight over the worker's TLS: <c>grpc+tls://</c> locations, the server checked against the cluster's CA.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task With_tls_flight_speaks_tls_hands_out_grpc_tls_locations_and_fails_for_another_ca()
    {
        using var ca = new TestCertificates();
        CertificatePair pair = ca.Server();
        var tls = new ServerTls(CertificateFiles.Load(pair.CertificateFile, pair.KeyFile));
        await using FlightCluster cluster = await FlightCluster.StartAsync(2, ufs => File.WriteAllText(Path.Combine(ufs, "a.txt"), "hello tls"), tls: tls);
        LocalCluster workers = cluster.Cluster;
        Assert.All(workers.Workers, w => Assert.StartsWith("grpc+tls://127.0.0.1:", w.Registered!.FlightUri, StringComparison.Ordinal));

        var trusting = new ClientTls(TlsTrust.FromCaFile(ca.CaFile));
        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{workers.Workers[0].FlightPort}", new GrpcChannelOptions { HttpHandler = trusting.CreateHandler() });
        FlightInfo info = await new FlightClient(channel).GetInfo(FlightDescriptor.CreatePathDescriptor("/a.txt")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(9, info.TotalBytes);
        Assert.StartsWith("grpc+tls://127.0.0.1:", info.Endpoints.Single().Locations.Single().Uri, StringComparison.Ordinal);

        // A client trusting another CA, and a plaintext client, get nothing.
        using var other = new TestCertificates("Another CA");
        using var foreign = GrpcChannel.ForAddress($"https://127.0.0.1:{workers.Workers[0].FlightPort}", new GrpcChannelOptions { HttpHandler = new ClientTls(TlsTrust.FromCaFile(other.CaFile)).CreateHandler() });
        await Assert.ThrowsAnyAsync<Exception>(() => new FlightClient(foreign).GetInfo(FlightDescriptor.CreatePathDescriptor("/a.txt")).ResponseAsync.WaitAsync(TestTimeouts.Default));
        using var plain = GrpcChannel.ForAddress($"http://127.0.0.1:{workers.Workers[0].FlightPort}");
        await Assert.ThrowsAnyAsync<Exception>(() => new FlightClient(plain).GetInfo(FlightDescriptor.CreatePathDescriptor("/a.txt")).ResponseAsync.WaitAsync(TestTimeouts.Default));
    }
}
