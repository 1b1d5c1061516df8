using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Grpc.Net.Client;

namespace Dora.Flight.IntegrationTests;

public sealed class TlsTests
{
    [Fact]
    public async Task With_a_certificate_flight_speaks_tls_and_hands_out_grpc_tls_locations()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        await using FlightCluster tls = await FlightCluster.StartAsync(1, ufs => File.WriteAllText(Path.Combine(ufs, "a.txt"), "hello tls"), new FlightOptions { TlsCertificate = certificate });
        LocalCluster cluster = tls.Cluster;

        string thumbprint = certificate.Thumbprint;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                // The test's own self-signed certificate, pinned by thumbprint.
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is X509Certificate2 c && c.Thumbprint == thumbprint,
            },
        };
        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{cluster.Workers[0].FlightPort}", new GrpcChannelOptions { HttpHandler = handler });
        FlightInfo info = await new FlightClient(channel).GetInfo(FlightDescriptor.CreatePathDescriptor("/a.txt")).ResponseAsync.WaitAsync(TestTimeouts.Default);
        Assert.Equal(9, info.TotalBytes);
        Assert.StartsWith("grpc+tls://127.0.0.1:", info.Endpoints.Single().Locations.Single().Uri, StringComparison.Ordinal);

        // Plaintext clients cannot talk to it.
        using var plain = GrpcChannel.ForAddress($"http://127.0.0.1:{cluster.Workers[0].FlightPort}");
        await Assert.ThrowsAnyAsync<Exception>(() => new FlightClient(plain).GetInfo(FlightDescriptor.CreatePathDescriptor("/a.txt")).ResponseAsync.WaitAsync(TestTimeouts.Default));
    }
}
