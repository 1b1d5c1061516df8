using System.Text.Json;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary><c>dora worker</c> and <c>dora workers</c> as real processes against a real etcd.</summary>
public sealed class WorkerProcessTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private EtcdProcess? _etcd;

    private EtcdProcess Etcd => _etcd ?? throw new InvalidOperationException("etcd is not started.");

    public async Task InitializeAsync()
    {
        _etcd = await EtcdProcess.StartAsync();
        Directory.CreateDirectory(_directory.Combine("ufs"));
        await File.WriteAllTextAsync(_directory.Combine("ufs", "a.txt"), "hello");
    }

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Dispose();

    private DoraProcess StartWorker(string cacheDirectory, string cluster, params string[] extra) => DoraProcess.Start(
        _directory.Path,
        ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", cluster, "--cache-dir", cacheDirectory,
         "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2", .. extra]);

    private EtcdRegistry Registry(string cluster) => new(new EtcdRegistryOptions { Endpoints = [Etcd.ClientUrl], Cluster = cluster });

    private async Task<JsonElement[]> ListWorkersAsync(string cluster)
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "workers", "--registry", Etcd.RegistryAddress, "--cluster", cluster, "--json");
        Assert.True(code == 0, output);
        using var json = JsonDocument.Parse(output);
        return [.. json.RootElement.GetProperty("workers").EnumerateArray().Select(w => w.Clone())];
    }

    [Fact]
    public async Task A_killed_worker_leaves_the_ring_after_its_lease_TTL_and_watchers_drop_it()
    {
        await using DoraProcess worker = StartWorker("cache-1", "kill");
        await worker.WaitForOutputAsync("is serving");
        JsonElement listed = Assert.Single(await ListWorkersAsync("kill"));
        Assert.Equal("serving", listed.GetProperty("state").GetString());
        Assert.Equal(1.0, listed.GetProperty("share").GetDouble());

        await using EtcdRegistry registry = Registry("kill");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var options = new ClusterViewOptions { EmptyViewConfirmation = TimeSpan.FromSeconds(1), DepartureGrace = TimeSpan.FromSeconds(20), RebuildInterval = TimeSpan.Zero, Time = time };
        await using ClusterView view = await ClusterView.StartAsync(registry, options, null, default).Within();
        Assert.Single(view.Membership.Workers);

        // The entry goes when its lease (2 s) expires; watchers keep the worker for their grace, in case it comes back.
        worker.Kill9();
        while ((await registry.ReadAsync(default).Within()).Workers.Count != 0)
        {
            await Task.Delay(50);
        }

        while (view.DepartingWorkers != 1)
        {
            await Task.Delay(20);
        }

        Assert.Single(view.Membership.Workers);
        while (view.Membership.Workers.Count != 0)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        Assert.True(time.GetUtcNow() - time.Start >= TimeSpan.FromSeconds(20));
        Assert.Empty(await ListWorkersAsync("kill"));
    }

    [Fact]
    public async Task A_worker_takes_its_tokens_from_DORA_TOKEN_or_a_token_file_and_clients_too()
    {
        string[] ls = ["ls", "/", "--registry", Etcd.RegistryAddress, "--cluster", "tokens"];
        await File.WriteAllTextAsync(_directory.Combine("tokens"), "# rotating\nnext-token\nfirst-token\n");

        // A worker given only DORA_TOKEN requires it (the attack this closes: it used to run without authentication).
        await using (DoraProcess worker = DoraProcess.Start(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = "first-token" },
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", "tokens", "--cache-dir", "cache-t",
             "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2"]))
        {
            await worker.WaitForOutputAsync("is serving");
            (int anonymous, string refused) = await DoraProcess.RunAsync(_directory.Path, ls);
            Assert.NotEqual(0, anonymous);
            Assert.Contains("requires a token", refused, StringComparison.Ordinal);

            (int wrong, string wrongOutput) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = "guess" }, ls);
            Assert.NotEqual(0, wrong);
            Assert.Contains("not accepted", wrongOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("guess", wrongOutput, StringComparison.Ordinal);

            (int fromEnvironment, string listed) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = "first-token" }, ls);
            Assert.True(fromEnvironment == 0, listed);
            Assert.Contains("a.txt", listed, StringComparison.Ordinal);
            Assert.DoesNotContain("first-token", worker.Output, StringComparison.Ordinal);
        }

        // With a token file: any of its tokens is accepted (rotation), and the client presents the file's first.
        await using (DoraProcess worker = DoraProcess.Start(_directory.Path,
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", "tokens", "--cache-dir", "cache-t",
             "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2", "--token-file", "tokens"]))
        {
            await worker.WaitForOutputAsync("is serving");
            (int oldToken, string output) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = "first-token" }, ls);
            Assert.True(oldToken == 0, output);
            (int fromFile, string listed) = await DoraProcess.RunAsync(_directory.Path, [.. ls, "--token-file", "tokens"]);
            Assert.True(fromFile == 0, listed);
        }
    }

    [Theory]
    [InlineData("", "holds no token")]
    [InlineData("# only a comment\n", "holds no token")]
    [InlineData("has a space\n", "token 1 of the token file")]
    public async Task A_worker_refuses_to_start_with_a_token_file_it_cannot_use(string content, string expected)
    {
        await File.WriteAllTextAsync(_directory.Combine("bad-tokens"), content);
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path,
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", "bad", "--cache-dir", "cache-b", "--token-file", "bad-tokens"]);
        Assert.Equal(2, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("has a space", output, StringComparison.Ordinal);

        (int missing, string missingOutput) = await DoraProcess.RunAsync(_directory.Path,
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", "bad", "--cache-dir", "cache-b", "--token-file", "no-such-file"]);
        Assert.Equal(2, missing);
        Assert.Contains("cannot be read", missingOutput, StringComparison.Ordinal);

        (int emptyEnvironment, string environmentOutput) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = " , " },
            ["worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cluster", "bad", "--cache-dir", "cache-b"]);
        Assert.Equal(2, emptyEnvironment);
        Assert.Contains("$DORA_TOKEN holds no token", environmentOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restarted_worker_keeps_its_id_and_a_stopped_one_deregisters_at_once()
    {
        string id;
        await using (DoraProcess first = StartWorker("cache-r", "restart"))
        {
            await first.WaitForOutputAsync("is serving");
            id = Assert.Single(await ListWorkersAsync("restart")).GetProperty("id").GetString()!;
            await first.TerminateAsync();
            Assert.Equal(0, await first.WaitForExitAsync());
            Assert.Contains("leaving the cluster", first.Output, StringComparison.Ordinal);
        }

        Assert.Empty(await ListWorkersAsync("restart"));

        await using DoraProcess second = StartWorker("cache-r", "restart");
        await second.WaitForOutputAsync("is serving");
        Assert.Equal(id, Assert.Single(await ListWorkersAsync("restart")).GetProperty("id").GetString());

        // Killed and started again at once: it takes its own entry back instead of waiting for the lease.
        second.Kill9();
        await second.WaitForExitAsync();
        await using DoraProcess third = StartWorker("cache-r", "restart");
        await third.WaitForOutputAsync("is serving");
        Assert.Contains("taking over the entry of its own previous run", third.Output, StringComparison.Ordinal);
        Assert.Equal(id, Assert.Single(await ListWorkersAsync("restart")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_worker_without_mounts_adopts_the_clusters_table_and_one_with_another_table_is_refused()
    {
        await using DoraProcess first = StartWorker("cache-m1", "mounts");
        await first.WaitForOutputAsync("is serving");

        // No --ufs, no --mount: the worker serves what the running worker advertises.
        await using DoraProcess second = DoraProcess.Start(
            _directory.Path,
            "worker", "--registry", Etcd.RegistryAddress, "--cluster", "mounts", "--cache-dir", "cache-m2",
            "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2");
        await second.WaitForOutputAsync("is serving");
        JsonElement[] listed = await ListWorkersAsync("mounts");
        Assert.Equal(2, listed.Length);
        string table = listed[0].GetProperty("mounts").GetRawText();
        Assert.Contains("/=file://", table, StringComparison.Ordinal);
        Assert.Equal(table, listed[1].GetProperty("mounts").GetRawText());

        // Another folder at / would serve other bytes for the same paths: refused, naming both tables.
        Directory.CreateDirectory(_directory.Combine("other"));
        (int code, string output) = await DoraProcess.RunAsync(
            _directory.Path,
            "worker", "--ufs", "other", "--registry", Etcd.RegistryAddress, "--cluster", "mounts", "--cache-dir", "cache-m3",
            "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--lease-ttl", "2");
        Assert.Equal(1, code);
        Assert.Contains("differs from worker", output, StringComparison.Ordinal);
        Assert.Contains("other", output, StringComparison.Ordinal);
        Assert.Equal(2, (await ListWorkersAsync("mounts")).Length);
    }

    [Fact]
    public async Task A_second_worker_claiming_a_live_id_is_refused_and_exits_with_the_reason()
    {
        await using DoraProcess first = StartWorker("cache-a", "dup", "--worker-id", "w-shared");
        await first.WaitForOutputAsync("is serving");
        await using DoraProcess second = StartWorker("cache-b", "dup", "--worker-id", "w-shared");

        Assert.Equal(1, await second.WaitForExitAsync());
        Assert.Contains("Worker id 'w-shared' is already registered", second.Output, StringComparison.Ordinal);
        JsonElement listed = Assert.Single(await ListWorkersAsync("dup"));
        Assert.Equal("w-shared", listed.GetProperty("id").GetString());
        Assert.Equal("serving", listed.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData(new[] { "worker", "--ufs", "ufs" }, "option '--registry' is required")]
    [InlineData(new[] { "worker", "--registry", "etcd://127.0.0.1:1", "--mount", "/=s3://x" }, "not a valid bucket name")]
    [InlineData(new[] { "worker", "--ufs", "ufs", "--registry", "etcd://127.0.0.1:1", "--lease-ttl", "1" }, "option '--lease-ttl'")]
    [InlineData(new[] { "worker", "--ufs", "ufs", "--registry", "etcd://127.0.0.1:1", "--worker-id", "a/b" }, "option '--worker-id'")]
    [InlineData(new[] { "workers", "--registry", "zk://x" }, "not understood")]
    [InlineData(new[] { "workers", "--registry", "etcd://127.0.0.1:1", "--hash-policy", "modulo" }, "Unknown hashing policy 'modulo'")]
    [InlineData(new[] { "workers", "--registry", "etcd://127.0.0.1:1", "--cluster", "a b" }, "option '--cluster'")]
    public async Task Bad_command_lines_exit_2_naming_the_problem(string[] arguments, string expected)
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, arguments);
        Assert.Equal(2, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_registry_is_reported_with_exit_code_1()
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "workers", "--registry", $"etcd://127.0.0.1:{FreePorts.Next()}");
        Assert.Equal(1, code);
        Assert.Contains("is unreachable", output, StringComparison.Ordinal);
    }
}
