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

    /// <summary>
    /// Starts a fresh etcd and waits until it serves. A port found free can be taken by another process before etcd
    /// binds it; then etcd exits at once, and a fresh pair of ports is tried (three times at most).
    /// </summary>
    public static async Task<EtcdProcess> StartAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await ServerProcesses.StartOrDisposeAsync(new EtcdProcess(), etcd => etcd.StartAgainAsync()).ConfigureAwait(false);
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Exited while starting: try other ports.
            }
        }
    }

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

    /// <summary>
    /// Stops the server in its tracks (SIGSTOP): connections stay open but nothing answers, as when its machine hangs;
    /// <see cref="Thaw"/> lets it run on. Leases run out meanwhile and expire together when it resumes.
    /// </summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen server run again (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
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
