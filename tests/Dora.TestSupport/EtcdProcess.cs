using System.Diagnostics;
using System.Net.Sockets;

namespace Dora.TestSupport;

/// <summary>
/// A real etcd server (Debian's etcd-server, which ./test.sh installs) on free loopback ports with its own temporary
/// data directory. It can be stopped and started again on the same ports and data, to test outages.
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private readonly TemporaryDirectory _data = new();
    private readonly int _peerPort = FreePorts.Next();
    private Process? _process;

    private EtcdProcess()
    {
        ClientPort = FreePorts.Next();
    }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary>The registry address Dora takes: <c>etcd://127.0.0.1:PORT</c>.</summary>
    public string RegistryAddress => $"etcd://127.0.0.1:{ClientPort}";

    /// <summary>The client URL.</summary>
    public Uri ClientUrl => new($"http://127.0.0.1:{ClientPort}");

    /// <summary>Starts a fresh etcd and waits until it serves.</summary>
    public static Task<EtcdProcess> StartAsync() => ServerProcesses.StartOrDisposeAsync(new EtcdProcess(), etcd => etcd.StartAgainAsync());

    /// <summary>Starts the server (again) on the same ports and data directory and waits until it accepts clients.</summary>
    public async Task StartAgainAsync()
    {
        string binary = FindBinary();
        string peer = $"http://127.0.0.1:{_peerPort}";
        string client = $"http://127.0.0.1:{ClientPort}";
        _process = ServerProcesses.Start(binary,
        [
            "--name", "dora-test", "--data-dir", _data.Path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"dora-test={peer}", "--log-level", "error",
        ]);
        await WaitUntilServingAsync().ConfigureAwait(false);
    }

    /// <summary>Kills the server at once (like a crash or a lost machine).</summary>
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

    private async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TestTimeouts.Default)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"etcd exited with code {_process.ExitCode} while starting.");
            }

            try
            {
                string health = await http.GetStringAsync(new Uri(ClientUrl, "/health")).ConfigureAwait(false);
                if (health.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException)
            {
                // Not up yet.
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        throw new TimeoutException($"etcd did not become healthy on port {ClientPort}.");
    }

    private static string FindBinary()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Append("/usr/bin"))
        {
            string candidate = Path.Combine(directory, "etcd");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("etcd is not installed; ./test.sh installs Debian's etcd-server (apt-get install etcd-server).");
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _data.Dispose();
    }
}
