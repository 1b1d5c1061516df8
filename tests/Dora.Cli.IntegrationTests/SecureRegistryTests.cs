using System.Text.Json;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary>
/// A registry that cannot be forged: etcd serving TLS only, with client certificates and users set up by
/// deploy/etcd/dora-rbac.sh (as docs/registry.md tells operators). Workers, the scheduler and clients use it with their
/// own credentials; a client cannot write a worker record (the forged-record attack), a worker cannot write another's,
/// and wrong or missing credentials are refused with a message that says so.
/// </summary>
public sealed class SecureRegistryTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly TestCertificates _ca = new();
    private EtcdProcess? _etcd;
    private readonly List<DoraProcess> _processes = [];

    private string Secrets => _directory.Combine("secrets");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Combine("ufs"));
        for (int i = 0; i < 10; i++)
        {
            await File.WriteAllTextAsync(_directory.Combine("ufs", $"file-{i}.txt"), $"the real content of file {i}\n");
        }

        _etcd = await EtcdProcess.StartSecureAsync(_ca);
        var setup = new System.Diagnostics.ProcessStartInfo("sh", [RepositoryFiles.PathOf("deploy/etcd/dora-rbac.sh"), "default", Secrets, "w1", "w2"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach ((string name, string value) in _etcd.EtcdctlEnvironment())
        {
            setup.Environment[name] = value;
        }

        using (var rbac = System.Diagnostics.Process.Start(setup)!)
        {
            string output = await rbac.StandardOutput.ReadToEndAsync() + await rbac.StandardError.ReadToEndAsync();
            await rbac.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
            Assert.True(rbac.ExitCode == 0, output);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (DoraProcess process in _processes)
        {
            await process.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    public void Dispose()
    {
        _ca.Dispose();
        _directory.Dispose();
    }

    /// <summary>The registry options of <paramref name="user"/>: TLS with the CA, its own client certificate, its password file.</summary>
    private string[] As(string user, string? passwordFile = null)
    {
        CertificatePair certificate = _ca.Client(user);
        return ["--registry", $"etcd://127.0.0.1:{_etcd!.ClientPort}", "--etcd-ca", _ca.CaFile, "--etcd-cert", certificate.CertificateFile, "--etcd-key", certificate.KeyFile,
            "--etcd-user", user, "--etcd-password-file", passwordFile ?? Path.Combine(Secrets, $"{user}.password")];
    }

    private DoraProcess StartWorker(string id, string[] credentials)
    {
        var process = DoraProcess.Start(_directory.Path, ["worker", "--ufs", "ufs", "--worker-id", id, "--cache-dir", $"cache-{id}", "--http-port", "0", "--stream-port", "0", "--flight-port", "0", .. credentials]);
        _processes.Add(process);
        return process;
    }

    [Fact]
    public async Task Workers_scheduler_and_clients_work_with_their_credentials_and_nobody_can_forge_a_worker()
    {
        DoraProcess w1 = StartWorker("w1", As("w1"));
        DoraProcess w2 = StartWorker("w2", As("w2"));
        await w1.WaitForOutputAsync("is serving");
        await w2.WaitForOutputAsync("is serving");
        var scheduler = DoraProcess.Start(_directory.Path, ["scheduler", "--dir", "jobs", "--port", "0", .. As("scheduler")]);
        _processes.Add(scheduler);
        await scheduler.WaitForOutputAsync("is serving");

        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, ["workers", "--json", .. As("reader")]);
        Assert.True(code == 0, output);
        using (var listed = JsonDocument.Parse(output))
        {
            Assert.Equal(["w1", "w2"], listed.RootElement.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("id").GetString()).Order());
        }

        (code, output) = await DoraProcess.RunAsync(_directory.Path, ["load", "/", "--wait", .. As("reader")]);
        Assert.True(code == 0, output);

        // The attack: a reader writes a worker record pointing at its own server. etcd refuses it.
        string forged = """{"id":"evil","host":"127.0.0.1","streamPort":1,"httpPort":1,"flightPort":0,"capacityBytes":1099511627776}""";
        var asReader = new Dictionary<string, string> { ["ETCDCTL_USER"] = "reader:" + await File.ReadAllTextAsync(Path.Combine(Secrets, "reader.password")) };
        (int put, string refused) = await _etcd!.EtcdctlAsync(asReader, null, "put", "/dora/default/workers/evil", forged);
        Assert.NotEqual(0, put);
        Assert.Contains("permission denied", refused, StringComparison.Ordinal);

        // Nor may a worker overwrite another worker's record.
        var asW1 = new Dictionary<string, string> { ["ETCDCTL_USER"] = "w1:" + await File.ReadAllTextAsync(Path.Combine(Secrets, "w1.password")) };
        (put, refused) = await _etcd.EtcdctlAsync(asW1, null, "put", "/dora/default/workers/w2", forged.Replace("evil", "w2", StringComparison.Ordinal));
        Assert.NotEqual(0, put);
        Assert.Contains("permission denied", refused, StringComparison.Ordinal);

        // Every file still reads as itself, through both workers.
        for (int i = 0; i < 10; i++)
        {
            (code, output) = await DoraProcess.RunAsync(_directory.Path, ["cat", $"/file-{i}.txt", .. As("reader")]);
            Assert.True(code == 0, output);
            Assert.Contains($"the real content of file {i}", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Wrong_or_missing_credentials_and_a_worker_id_without_a_role_are_refused_with_the_reason()
    {
        await File.WriteAllTextAsync(_directory.Combine("wrong.password"), "not-the-password\n");
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, ["workers", .. As("reader", _directory.Combine("wrong.password"))]);
        Assert.NotEqual(0, code);
        Assert.Contains("etcd refused user 'reader': etcdserver: authentication failed, invalid user ID or password", output, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", output, StringComparison.Ordinal);

        // Without a client certificate etcd does not even finish the handshake.
        (code, output) = await DoraProcess.RunAsync(_directory.Path, "workers", "--registry", $"etcd://127.0.0.1:{_etcd!.ClientPort}", "--etcd-ca", _ca.CaFile);
        Assert.NotEqual(0, code);
        Assert.Contains("if etcd requires client certificates, give --etcd-cert and --etcd-key", output, StringComparison.Ordinal);

        // w1's credentials do not let a worker register as w3.
        DoraProcess intruder = StartWorker("w3", As("w1"));
        Assert.NotEqual(0, await intruder.WaitForExitAsync());
        Assert.Contains("etcd does not let user 'w1' write /dora/default/workers/w3", intruder.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", intruder.Output, StringComparison.Ordinal);
    }
}
