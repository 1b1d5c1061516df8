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
    private readonly TestCertificates? _ca;
    private readonly CertificatePair? _server;
    private Process? _process;

    private EtcdProcess(TestCertificates? ca = null)
    {
        ClientPort = FreePorts.Next();
        _ca = ca;
        if (ca is not null)
        {
            _server = ca.Server();
            Root = ca.Client("root");
        }
    }

    /// <summary>With TLS: the client certificate whose common name is etcd's root user (etcd maps it to the user).</summary>
    public CertificatePair? Root { get; }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int ClientPort { get; }

    /// <summary>The registry address Dora takes: <c>etcd://127.0.0.1:PORT</c>.</summary>
    public string RegistryAddress => $"etcd://127.0.0.1:{ClientPort}";

    /// <summary>The client URL (<c>https://</c> when the server runs TLS).</summary>
    public Uri ClientUrl => new($"{(_ca is null ? "http" : "https")}://127.0.0.1:{ClientPort}");

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

    /// <summary>
    /// Starts an etcd that serves clients over TLS only and requires a client certificate from <paramref name="ca"/>
    /// (<c>--client-cert-auth</c>), as docs/registry.md sets it up; users and roles are for the test to add
    /// (<see cref="EtcdctlAsync"/>), after which <c>auth enable</c> makes every call need a user.
    /// </summary>
    public static async Task<EtcdProcess> StartSecureAsync(TestCertificates ca) =>
        await ServerProcesses.StartOrDisposeAsync(new EtcdProcess(ca), etcd => etcd.StartAgainAsync()).ConfigureAwait(false);

    /// <summary>Starts the server (again) on the same ports and data directory and waits until it accepts clients.</summary>
    public async Task StartAgainAsync()
    {
        string binary = FindBinary();
        string peer = $"http://127.0.0.1:{_peerPort}";
        string client = ClientUrl.ToString().TrimEnd('/');
        List<string> arguments =
        [
            "--name", "dora-test", "--data-dir", _data.Path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"dora-test={peer}", "--log-level", "error",
        ];
        if (_ca is not null)
        {
            arguments.AddRange(["--cert-file", _server!.CertificateFile, "--key-file", _server.KeyFile, "--trusted-ca-file", _ca.CaFile, "--client-cert-auth"]);
        }

        _process = ServerProcesses.Start(binary, [.. arguments]);
        await WaitUntilServingAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs Debian's etcdctl against this server (with TLS: the CA and the root client certificate), with
    /// <paramref name="environment"/> added (ETCDCTL_USER, ...), and <paramref name="input"/> on its standard input.
    /// </summary>
    public async Task<(int ExitCode, string Output)> EtcdctlAsync(IReadOnlyDictionary<string, string>? environment, string? input, params string[] arguments)
    {
        var start = new ProcessStartInfo("etcdctl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach ((string name, string value) in EtcdctlEnvironment())
        {
            start.Environment[name] = value;
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input).ConfigureAwait(false);
        }

        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default).ConfigureAwait(false);
        return (process.ExitCode, await output.ConfigureAwait(false) + await error.ConfigureAwait(false));
    }

    /// <summary>The ETCDCTL_* variables that point etcdctl (and deploy/etcd/dora-rbac.sh) at this server.</summary>
    public Dictionary<string, string> EtcdctlEnvironment()
    {
        var environment = new Dictionary<string, string> { ["ETCDCTL_API"] = "3", ["ETCDCTL_ENDPOINTS"] = ClientUrl.ToString().TrimEnd('/') };
        if (_ca is not null)
        {
            environment["ETCDCTL_CACERT"] = _ca.CaFile;
            environment["ETCDCTL_CERT"] = Root!.CertificateFile;
            environment["ETCDCTL_KEY"] = Root.KeyFile;
        }

        return environment;
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
        using var http = _ca is null
            ? new HttpClient { Timeout = TimeSpan.FromSeconds(2) }
            : new HttpClient(new Dora.Core.Security.ClientTls(Dora.Core.Security.TlsTrust.FromCaFile(_ca.CaFile), Dora.Core.Security.CertificateFiles.Load(Root!.CertificateFile, Root.KeyFile)).CreateHandler()) { Timeout = TimeSpan.FromSeconds(2) };
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
