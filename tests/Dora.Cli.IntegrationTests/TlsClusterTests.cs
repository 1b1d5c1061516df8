using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dora.Core.Security;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary>
/// <c>dora local --tls-cert --tls-key</c> as a process, with a test CA: every face speaks TLS and is advertised so
/// (https, dora+tls, grpc+tls), the client commands verify it with <c>--tls-ca</c>, and without the CA they stop before
/// sending the token. With <c>--tls-client-ca</c>, a client must also present a certificate from that CA.
/// </summary>
public sealed class TlsClusterTests : IAsyncLifetime, IDisposable
{
    private const string Token = "tls-cluster-token";
    private readonly TemporaryDirectory _directory = new();
    private readonly TestCertificates _ca = new();
    private DoraProcess? _local;
    private JsonDocument? _cluster;

    public async Task InitializeAsync()
    {
        CertificatePair server = _ca.Server();
        Directory.CreateDirectory(_directory.Combine("data"));
        await File.WriteAllTextAsync(_directory.Combine("data", "hello.txt"), "hello over tls\n");
        await File.WriteAllTextAsync(_directory.Combine("tokens"), Token + "\n");
        _local = DoraProcess.Start(
            _directory.Path,
            new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "tls-s3-key", ["AWS_SECRET_ACCESS_KEY"] = "tls-s3-secret-0123" },
            "local", "--ufs", "data", "--workers", "2", "--http-port", "0", "--stream-port", "0", "--s3-port", "0",
            "--flight-port", "0", "--scheduler-port", "0", "--token-file", "tokens", "--tls-cert", server.CertificateFile, "--tls-key", server.KeyFile, "--tls-ca", _ca.CaFile);
        await _local.WaitForOutputAsync("Press Ctrl+C to stop.");
        _cluster = JsonDocument.Parse(await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json")));
    }

    public async Task DisposeAsync()
    {
        _cluster?.Dispose();
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _ca.Dispose();
        _directory.Dispose();
    }

    private string[] WithCa(params string[] arguments) => [.. arguments, "--tls-ca", _ca.CaFile, "--token-file", "tokens"];

    [Fact]
    public void The_cluster_file_and_banner_advertise_tls_on_every_face()
    {
        foreach (JsonElement worker in _cluster!.RootElement.GetProperty("workers").EnumerateArray())
        {
            Assert.True(worker.GetProperty("tls").GetBoolean());
            Assert.StartsWith("https://127.0.0.1:", worker.GetProperty("httpUri").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("dora+tls://127.0.0.1:", worker.GetProperty("streamUri").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("grpc+tls://127.0.0.1:", worker.GetProperty("flightUri").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("https://127.0.0.1:", worker.GetProperty("s3Uri").GetString(), StringComparison.Ordinal);
        }

        Assert.StartsWith("https://127.0.0.1:", _cluster.RootElement.GetProperty("scheduler").GetProperty("url").GetString(), StringComparison.Ordinal);
        Assert.Contains("stream dora+tls://", _local!.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_commands_verify_the_workers_with_the_ca_and_without_it_send_no_token()
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, WithCa("cat", "/hello.txt"));
        Assert.True(code == 0, output);
        Assert.Contains("hello over tls", output, StringComparison.Ordinal);

        (code, output) = await DoraProcess.RunAsync(_directory.Path, "cat", "/hello.txt", "--token-file", "tokens");
        Assert.NotEqual(0, code);
        Assert.Contains("no token was sent", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);

        (code, output) = await DoraProcess.RunAsync(_directory.Path, "workers", "--tls-ca", _ca.CaFile);
        Assert.True(code == 0, output);
        Assert.Equal(2, output.Split('\n').Count(line => line.Contains("serving", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_scheduler_serves_https_and_loads_through_tls_workers()
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, WithCa("load", "/", "--wait", "--json"));
        Assert.True(code == 0, output);
        Assert.Contains("\"succeeded\"", output, StringComparison.Ordinal);

        (code, output) = await DoraProcess.RunAsync(_directory.Path, "jobs", "--token-file", "tokens");
        Assert.NotEqual(0, code);
        Assert.Contains("cannot reach the scheduler", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_http_api_is_https_only_and_still_needs_the_token()
    {
        string https = _cluster!.RootElement.GetProperty("workers")[0].GetProperty("httpUri").GetString()!;
        using var trusting = new HttpClient(new ClientTls(TlsTrust.FromCaFile(_ca.CaFile)).CreateHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, https + "v1/data?path=/hello.txt");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using HttpResponseMessage response = await trusting.SendAsync(request).Within();
        Assert.Equal("hello over tls\n", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await trusting.GetAsync(https + "v1/data?path=/hello.txt").Within()).StatusCode);

        // The S3 gateway is HTTPS too: an unsigned request reaches it only over TLS, and is refused for its missing signature.
        string s3 = _cluster.RootElement.GetProperty("workers")[0].GetProperty("s3Uri").GetString()!;
        using HttpResponseMessage unsigned = await trusting.GetAsync(s3 + "/").Within();
        Assert.Equal(HttpStatusCode.Forbidden, unsigned.StatusCode);
        Assert.Contains("<Code>AccessDenied</Code>", await unsigned.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var untrusting = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(https + "healthz").Within());
        await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync(https.Replace("https://", "http://", StringComparison.Ordinal) + "healthz").Within());
    }
}

/// <summary><c>dora local --tls-client-ca</c>: every face asks for a client certificate from the CA (mutual TLS).</summary>
public sealed class MutualTlsClusterTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly TestCertificates _ca = new();
    private DoraProcess? _local;
    private string _workerHttp = string.Empty;

    public async Task InitializeAsync()
    {
        CertificatePair server = _ca.Server();
        Directory.CreateDirectory(_directory.Combine("data"));
        await File.WriteAllTextAsync(_directory.Combine("data", "hello.txt"), "hello over mutual tls\n");
        _local = DoraProcess.Start(_directory.Path, "local", "--ufs", "data", "--workers", "1", "--http-port", "0", "--stream-port", "0",
            "--flight-port", "0", "--scheduler-port", "0", "--tls-cert", server.CertificateFile, "--tls-key", server.KeyFile, "--tls-ca", _ca.CaFile, "--tls-client-ca", _ca.CaFile);
        await _local.WaitForOutputAsync("Press Ctrl+C to stop.");
        using var cluster = JsonDocument.Parse(await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json")));
        _workerHttp = cluster.RootElement.GetProperty("workers")[0].GetProperty("httpUri").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _ca.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task Only_clients_presenting_a_certificate_from_the_ca_are_served_on_the_page_stream_http_and_the_scheduler()
    {
        CertificatePair client = _ca.Client("notebook");
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "cat", "/hello.txt", "--tls-ca", _ca.CaFile, "--tls-cert", client.CertificateFile, "--tls-key", client.KeyFile);
        Assert.True(code == 0, output);
        Assert.Contains("hello over mutual tls", output, StringComparison.Ordinal);

        (code, output) = await DoraProcess.RunAsync(_directory.Path, "cat", "/hello.txt", "--tls-ca", _ca.CaFile);
        Assert.NotEqual(0, code);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(output, "mutual TLS|certificate"), output);

        // The in-process scheduler presents the cluster's own certificate to the workers.
        (code, output) = await DoraProcess.RunAsync(_directory.Path, "load", "/", "--wait", "--tls-ca", _ca.CaFile, "--tls-cert", client.CertificateFile, "--tls-key", client.KeyFile);
        Assert.True(code == 0, output);
        (code, _) = await DoraProcess.RunAsync(_directory.Path, "jobs", "--tls-ca", _ca.CaFile);
        Assert.NotEqual(0, code);

        var withCertificate = new ClientTls(TlsTrust.FromCaFile(_ca.CaFile), CertificateFiles.Load(client.CertificateFile, client.KeyFile));
        using var http = new HttpClient(withCertificate.CreateHandler());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(_workerHttp + "v1/info?path=/hello.txt").Within()).StatusCode);
        using var anonymous = new HttpClient(new ClientTls(TlsTrust.FromCaFile(_ca.CaFile)).CreateHandler());
        await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.GetAsync(_workerHttp + "v1/info?path=/hello.txt").Within());
    }
}
