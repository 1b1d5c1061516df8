using System.Net.Security;
using System.Net.Sockets;
using Dora.Core.Protocol;
using Dora.Core.Security;
using Dora.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Client.IntegrationTests;

/// <summary>
/// The page stream over TLS: workers advertise <c>dora+tls://</c>, clients check the certificate against the CA they
/// trust and the host the registry advertises before a token leaves them, mutual TLS, and a renewed certificate served
/// without a restart.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private const string Token = "tls-token";
    private readonly TestCertificates _ca = new();

    public void Dispose() => _ca.Dispose();

    private ServerTls ServerTls(CertificatePair? pair = null, TlsTrust? clientCas = null, TimeProvider? time = null)
    {
        pair ??= _ca.Server();
        return new ServerTls(CertificateFiles.Load(pair.CertificateFile, pair.KeyFile, time), clientCas);
    }

    private ClientTls Trusting(CertificatePair? clientCertificate = null) => new(
        TlsTrust.FromCaFile(_ca.CaFile),
        clientCertificate is null ? null : CertificateFiles.Load(clientCertificate.CertificateFile, clientCertificate.KeyFile),
        Required: true);

    private static Task<TestCluster> StartAsync(ServerTls tls, ClientTls clientTls, int workers = 2) => TestCluster.StartAsync(
        workers,
        ufs =>
        {
            TestFiles.Write(Path.Combine(ufs, "big.bin"), 3 * TestCluster.PageSize + 1234, seed: 1);
            TestFiles.Write(Path.Combine(ufs, "small.bin"), 4000, seed: 2);
        },
        new DoraClientOptions { AuthToken = Token, Tls = clientTls, FallbackToUnderStorage = false },
        streamToken: Token,
        sendfileThreshold: 0,
        tls: tls);

    [Fact]
    public async Task Workers_advertise_dora_tls_and_reads_are_byte_exact_cold_and_warm_async_and_blocking()
    {
        await using TestCluster cluster = await StartAsync(ServerTls(), Trusting());
        Assert.All(cluster.Cluster.Workers, w =>
        {
            Assert.True(w.Registered!.Tls);
            Assert.StartsWith("dora+tls://127.0.0.1:", w.Registered.StreamUri, StringComparison.Ordinal);
            Assert.StartsWith("https://127.0.0.1:", w.Registered.HttpUri, StringComparison.Ordinal);
        });

        byte[] expected = File.ReadAllBytes(Path.Combine(cluster.UfsPath, "big.bin"));
        for (int pass = 0; pass < 2; pass++)
        {
            // The second pass reads cached pages, which without TLS would go out with sendfile.
            byte[] read = new byte[expected.Length];
            Assert.Equal(expected.Length, await cluster.Client.ReadAsync("/big.bin", 0, read).Within());
            Assert.Equal(expected, read);
        }

        Assert.Equal(0, cluster.Cluster.Workers.Sum(w => w.Engine.Metrics.StreamBytesSendfile));

        // Blocking reads (what Parquet.Net and other synchronous readers do) take the same TLS connection path.
        await using Stream stream = await cluster.Client.OpenReadAsync("/small.bin").Within();
        byte[] blocking = new byte[5000];
        int total = 0;
        for (int n; (n = stream.Read(blocking, total, blocking.Length - total)) > 0;)
        {
            total += n;
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(cluster.UfsPath, "small.bin")), blocking[..total]);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_stops_at_the_handshake_and_never_sends_its_token()
    {
        await using TestCluster cluster = await StartAsync(ServerTls(), Trusting());
        await using DoraClient untrusting = await DoraClient.ConnectAsync(cluster.Cluster.Registry, new DoraClientOptions { AuthToken = Token, FallbackToUnderStorage = false }).Within();
        var error = await Assert.ThrowsAsync<WorkerRequestException>(() => untrusting.ReadAsync("/small.bin", 0, new byte[10])).Within();
        Assert.Contains("TLS with worker", error.Message, StringComparison.Ordinal);
        Assert.Contains("no token was sent", error.Message, StringComparison.Ordinal);
        Assert.Contains("its certificate does not chain to the system's trusted CAs", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, error.Message, StringComparison.Ordinal);

        // Another CA's bundle is no better.
        using var other = new TestCertificates("Another CA");
        await using DoraClient otherCa = await DoraClient.ConnectAsync(cluster.Cluster.Registry, new DoraClientOptions { AuthToken = Token, FallbackToUnderStorage = false, Tls = new ClientTls(TlsTrust.FromCaFile(other.CaFile)) }).Within();
        error = await Assert.ThrowsAsync<WorkerRequestException>(() => otherCa.ReadAsync("/small.bin", 0, new byte[10])).Within();
        Assert.Contains("no token was sent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_certificate_for_another_host_than_the_advertised_one_is_refused()
    {
        // Issued by the trusted CA, but for a name the registry does not advertise (the workers advertise 127.0.0.1).
        await using TestCluster cluster = await StartAsync(ServerTls(_ca.Server("storage.example.org")), Trusting());
        var error = await Assert.ThrowsAsync<WorkerRequestException>(() => cluster.Client.ReadAsync("/small.bin", 0, new byte[10])).Within();
        Assert.Contains("its certificate does not name '127.0.0.1' (it names storage.example.org)", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_client_that_requires_tls_refuses_a_worker_advertised_without_it()
    {
        await using TestCluster plain = await TestCluster.StartAsync(1, ufs => TestFiles.Write(Path.Combine(ufs, "a.bin"), 100, seed: 3), streamToken: Token);
        await using DoraClient requiring = await DoraClient.ConnectAsync(plain.Cluster.Registry, new DoraClientOptions { AuthToken = Token, FallbackToUnderStorage = false, Tls = Trusting() }).Within();
        var error = await Assert.ThrowsAsync<WorkerRequestException>(() => requiring.ReadAsync("/a.bin", 0, new byte[10])).Within();
        Assert.Contains("advertised without TLS while this client requires TLS; no token is sent to it", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, plain.Cluster.Workers[0].Engine.Metrics.StreamRequests);
    }

    [Fact]
    public async Task A_plaintext_hello_on_a_tls_port_gets_no_frame_back()
    {
        await using TestCluster cluster = await StartAsync(ServerTls(), Trusting(), workers: 1);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", cluster.Cluster.Workers[0].StreamPort).Within();
        byte[] hello = new byte[64];
        var writer = new PayloadWriter(hello);
        writer.WriteU16(ProtocolConstants.Version);
        writer.WriteString(Token);
        writer.WriteString("plaintext");
        await socket.SendAsync(hello.AsMemory(0, writer.Finish(FrameType.Hello, FrameBits.None, 1)));
        byte[] answer = new byte[256];
        int received;
        try
        {
            received = await socket.ReceiveAsync(answer.AsMemory()).AsTask().Within();
        }
        catch (SocketException)
        {
            received = 0;
        }

        // At most a TLS alert record (content type 21), never a Dora frame.
        Assert.True(received == 0 || answer[0] == 21, $"the server answered {received} bytes starting 0x{answer[0]:x2}");
    }

    [Fact]
    public async Task With_client_certificates_required_only_a_client_presenting_one_from_the_ca_is_served()
    {
        await using TestCluster cluster = await StartAsync(ServerTls(clientCas: TlsTrust.FromCaFile(_ca.CaFile)), Trusting(_ca.Client("scheduler")));
        byte[] read = new byte[4000];
        Assert.Equal(4000, await cluster.Client.ReadAsync("/small.bin", 0, read).Within());

        await using DoraClient anonymous = await DoraClient.ConnectAsync(cluster.Cluster.Registry, new DoraClientOptions { AuthToken = Token, FallbackToUnderStorage = false, Tls = Trusting() }).Within();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => anonymous.ReadAsync("/small.bin", 0, new byte[10])).Within();
        // Usually the worker closes after the client's side of a TLS 1.3 handshake, else its alert arrives within it.
        Assert.Matches("if it requires client certificates \\(mutual TLS\\), present one|CertificateRequired|certificate", error.Message);

        using var other = new TestCertificates("Another CA");
        await using DoraClient foreign = await DoraClient.ConnectAsync(cluster.Cluster.Registry, new DoraClientOptions { AuthToken = Token, FallbackToUnderStorage = false, Tls = Trusting(other.Client("intruder")) }).Within();
        long served = cluster.Cluster.Workers.Sum(w => w.Engine.Metrics.StreamRequests);

        // Refused at the handshake or right after it (TLS 1.3 checks the client's certificate last): either way nothing is served.
        await Assert.ThrowsAnyAsync<Dora.Core.Errors.DoraException>(() => foreign.ReadAsync("/small.bin", 0, new byte[10])).Within();
        Assert.Equal(served, cluster.Cluster.Workers.Sum(w => w.Engine.Metrics.StreamRequests));
    }

    [Fact]
    public async Task A_renewed_certificate_is_served_to_new_connections_without_a_restart()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        CertificatePair first = _ca.Server();
        string certificate = Path.Combine(Path.GetDirectoryName(first.CertificateFile)!, "served.crt");
        string key = Path.Combine(Path.GetDirectoryName(first.CertificateFile)!, "served.key");
        File.Copy(first.CertificateFile, certificate);
        File.Copy(first.KeyFile, key);
        await using TestCluster cluster = await StartAsync(new ServerTls(CertificateFiles.Load(certificate, key, time)), Trusting(), workers: 1);
        int port = cluster.Cluster.Workers[0].StreamPort;
        Assert.Equal(first.Thumbprint, await PresentedThumbprintAsync(port));

        // The renewal writes the certificate first: until the key follows, the pair does not match and the old one stays.
        CertificatePair renewed = _ca.Server();
        File.Copy(renewed.CertificateFile, certificate, overwrite: true);
        File.SetLastWriteTimeUtc(certificate, DateTime.UtcNow.AddSeconds(5));
        time.Advance(CertificateFiles.CheckInterval);
        Assert.Equal(first.Thumbprint, await PresentedThumbprintAsync(port));

        File.Copy(renewed.KeyFile, key, overwrite: true);
        File.SetLastWriteTimeUtc(key, DateTime.UtcNow.AddSeconds(10));
        time.Advance(CertificateFiles.CheckInterval);
        Assert.Equal(renewed.Thumbprint, await PresentedThumbprintAsync(port));

        byte[] read = new byte[4000];
        Assert.Equal(4000, await cluster.Client.ReadAsync("/small.bin", 0, read).Within());
    }

    private async Task<string> PresentedThumbprintAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port).Within();
        await using var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsClientAsync(Trusting().ForHost("127.0.0.1")).Within();
        return new System.Security.Cryptography.X509Certificates.X509Certificate2(tls.RemoteCertificate!).Thumbprint;
    }
}
