using System.Diagnostics;
using System.Net.Sockets;

namespace Dora.TestSupport;

/// <summary>
/// A real S3-compatible server on a free loopback port: the s3rver npm package (which ./test.sh installs into
/// tests/.tools), with its own temporary data directory. It can be stopped and started again on the same port and data.
/// Its credentials are s3rver's fixed ones.
/// </summary>
public sealed class S3ServerProcess : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly TemporaryDirectory _data = new();
    private readonly string[] _buckets;
    private Process? _process;

    private S3ServerProcess(string[] buckets)
    {
        _buckets = buckets;
        Port = FreePorts.Next();
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// An AWSSDK client straight to this server (path-style, s3rver's credentials, plain signed uploads: s3rver does
    /// not decode aws-chunked bodies, so uploads must set <c>UseChunkEncoding = false</c>).
    /// </summary>
    public Amazon.S3.AmazonS3Client DirectClient() => new(
        new Amazon.Runtime.BasicAWSCredentials(AccessKey, SecretKey),
        new Amazon.S3.AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>The mount URI of a bucket (and prefix) on this server.</summary>
    public string MountUri(string bucket, string prefix = "") => $"s3://{bucket}/{prefix}?endpoint={Endpoint}";

    /// <summary>Starts a server with these buckets created, and waits until it serves.</summary>
    public static Task<S3ServerProcess> StartAsync(params string[] buckets) =>
        ServerProcesses.StartOrDisposeAsync(new S3ServerProcess(buckets), server => server.StartAgainAsync());

    public async Task StartAgainAsync()
    {
        string script = RepositoryFiles.PathOf(Path.Combine("tests", ".tools", "node_modules", "s3rver", "bin", "s3rver.js"));
        if (!File.Exists(script))
        {
            throw new InvalidOperationException("s3rver is not installed; ./test.sh installs it (npm install --prefix tests/.tools s3rver@3.7.1).");
        }

        // s3rver hashes continuation tokens with an algorithm OpenSSL 3 keeps in its legacy provider.
        var arguments = new List<string> { "--openssl-legacy-provider", script, "-d", _data.Path, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" };

        // Buckets are created on the first start only; afterwards they are in the data directory.
        if (!Directory.EnumerateFileSystemEntries(_data.Path).Any())
        {
            foreach (string bucket in _buckets)
            {
                arguments.AddRange(["--configure-bucket", bucket]);
            }
        }

        _process = ServerProcesses.Start("node", arguments);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TestTimeouts.Default)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} while starting.");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", Port).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"s3rver did not listen on port {Port}.");
    }

    /// <summary>Kills the server at once (an outage).</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default).ConfigureAwait(false);
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _data.Dispose();
    }
}
