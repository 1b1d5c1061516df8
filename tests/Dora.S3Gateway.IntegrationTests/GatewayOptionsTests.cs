using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.S3Gateway.Auth;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>Key pairs from a shared-credentials file, anonymous access when asked for, virtual-host addressing, metrics.</summary>
public sealed class GatewayOptionsTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new("s3-options");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Every_profile_of_a_shared_credentials_file_is_a_pair_and_a_broken_file_is_refused_without_its_secrets()
    {
        string file = _directory.Combine("credentials");
        File.WriteAllText(file, "# Dora's S3 clients\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key = first-secret\n\n[trino]\naws_access_key_id=AKIA2\naws_secret_access_key=second-secret\nregion = us-east-1\n");
        S3KeyPairs keys = S3KeyPairs.FromFile(file);
        Assert.Equal(2, keys.Count);
        Assert.Equal("first-secret", keys.SecretOf("AKIA1"));
        Assert.Equal("second-secret", keys.SecretOf("AKIA2"));
        Assert.Null(keys.SecretOf("AKIA3"));
        Assert.DoesNotContain("secret", keys.ToString(), StringComparison.Ordinal);

        File.WriteAllText(file, "[broken]\naws_access_key_id = AKIA9\n");
        var error = Assert.Throws<S3CredentialsException>(() => S3KeyPairs.FromFile(file));
        Assert.Contains("[broken]", error.Message, StringComparison.Ordinal);
        File.WriteAllText(file, "[spaces]\naws_access_key_id = AKIA9\naws_secret_access_key = has a space\n");
        error = Assert.Throws<S3CredentialsException>(() => S3KeyPairs.FromFile(file));
        Assert.DoesNotContain("has a space", error.Message, StringComparison.Ordinal);
        Assert.Throws<S3CredentialsException>(() => S3KeyPairs.FromFile(_directory.Combine("missing")));
    }

    [Fact]
    public async Task Anonymous_access_serves_unsigned_reads_only_when_enabled_and_signed_requests_still_need_a_known_key()
    {
        await using GatewayCluster cluster = await GatewayCluster.StartAsync(1, ufs =>
        {
            Directory.CreateDirectory(Path.Combine(ufs, "public"));
            File.WriteAllText(Path.Combine(ufs, "public", "open.txt"), "open data\n");
        }, anonymous: true);
        using var http = new HttpClient();
        Assert.Equal("open data\n", await http.GetStringAsync(cluster.Endpoint(0) + "/public/open.txt").Within());
        var unknown = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => cluster.Client(0, accessKey: "AKIAUNKNOWN").GetObjectAsync("public", "open.txt")).Within();
        Assert.Equal("InvalidAccessKeyId", unknown.ErrorCode);
    }

    [Fact]
    public async Task Virtual_host_addressing_names_the_bucket_in_the_host_when_a_domain_is_set_and_metrics_count_operations()
    {
        await using GatewayCluster cluster = await GatewayCluster.StartAsync(1, ufs =>
        {
            Directory.CreateDirectory(Path.Combine(ufs, "lake"));
            File.WriteAllText(Path.Combine(ufs, "lake", "x.txt"), "virtual host\n");
        }, domain: "s3.dora.test");
        int port = new Uri(cluster.Endpoint(0)).Port;

        // The client resolves every name to loopback; the gateway sees Host: lake.s3.dora.test:PORT.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var s3 = new AmazonS3Client(new BasicAWSCredentials(GatewayCluster.AccessKey, GatewayCluster.Secret), new AmazonS3Config
        {
            ServiceURL = $"http://s3.dora.test:{port}", ForcePathStyle = false, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0,
            HttpClientFactory = new FixedHandlerFactory(handler),
        });
        using GetObjectResponse response = await s3.GetObjectAsync("lake", "x.txt").Within();
        using var reader = new StreamReader(response.ResponseStream);
        Assert.Equal("virtual host\n", await reader.ReadToEndAsync());

        string metrics = await new HttpClient().GetStringAsync(cluster.Cluster.Workers[0].HttpAddress + "metrics").Within();
        Assert.Contains("dora_s3_requests_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("operation=\"GetObject\"", metrics, StringComparison.Ordinal);
    }

    private sealed class FixedHandlerFactory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);
    }
}
