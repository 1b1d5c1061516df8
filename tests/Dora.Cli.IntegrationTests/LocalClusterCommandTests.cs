using System.Text.Json;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary><c>dora local</c> as a process, and the client commands finding it through <c>.dora/cluster.json</c>.</summary>
public sealed class LocalClusterCommandTests : IAsyncLifetime, IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private DoraProcess? _local;
    private byte[] _big = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Combine("data", "nested"));
        _big = TestFiles.Write(_directory.Combine("data", "big.bin"), 3_000_000, seed: 1);
        TestFiles.Write(_directory.Combine("data", "nested", "small.txt"), 10, seed: 2);
        _local = DoraProcess.Start(_directory.Path, "local", "--ufs", "data", "--workers", "3", "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0", "--page-size", "64KiB");
        await _local.WaitForOutputAsync("Press Ctrl+C to stop.");
    }

    public async Task DisposeAsync()
    {
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Dispose();

    private async Task<string> DoraAsync(params string[] arguments)
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, arguments);
        Assert.True(code == 0, $"dora {string.Join(' ', arguments)} exited {code}: {output}");
        return output;
    }

    [Fact]
    public async Task Client_commands_find_the_local_cluster_and_read_through_it()
    {
        using (var workers = JsonDocument.Parse(await DoraAsync("workers", "--json")))
        {
            JsonElement[] listed = [.. workers.RootElement.GetProperty("workers").EnumerateArray()];
            Assert.Equal(3, listed.Length);
            Assert.All(listed, w => Assert.Equal("serving", w.GetProperty("state").GetString()));
            Assert.All(listed, w => Assert.NotEqual(0, w.GetProperty("flightPort").GetInt32()));
            Assert.Equal(3, listed.Select(w => w.GetProperty("flightPort").GetInt32()).Distinct().Count());
            Assert.Equal(1.0, listed.Sum(w => w.GetProperty("share").GetDouble()), 3);
        }

        using (var ls = JsonDocument.Parse(await DoraAsync("ls", "/", "--json")))
        {
            Assert.Equal(["big.bin", "nested"], ls.RootElement.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        }

        string cat = await DoraAsync("cat", "/nested/small.txt");
        Assert.Equal(10, cat.Length);

        using (var stat = JsonDocument.Parse(await DoraAsync("stat", "/big.bin", "--json")))
        {
            Assert.Equal(_big.Length, stat.RootElement.GetProperty("length").GetInt64());
            Assert.StartsWith("w-", stat.RootElement.GetProperty("owner").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Load_through_the_local_scheduler_caches_the_files_and_jobs_lists_it()
    {
        using (var job = JsonDocument.Parse(await DoraAsync("load", "/", "--wait", "--json")))
        {
            Assert.Equal("succeeded", job.RootElement.GetProperty("state").GetString());
            Assert.Equal(2, job.RootElement.GetProperty("progress").GetProperty("filesPlanned").GetInt32());
        }

        using (var stat = JsonDocument.Parse(await DoraAsync("stat", "/big.bin", "--json")))
        {
            Assert.Equal(_big.Length, stat.RootElement.GetProperty("cachedBytes").GetInt64());
        }

        using (var jobs = JsonDocument.Parse(await DoraAsync("jobs", "--json")))
        {
            Assert.Contains(jobs.RootElement.EnumerateArray(), j => j.GetProperty("spec").GetProperty("path").GetString() == "/");
        }

        string text = await DoraAsync("jobs");
        Assert.Contains("succeeded", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cat_of_a_range_writes_exactly_those_bytes()
    {
        string output = _directory.Combine("range.bin");
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", $"dotnet '{Path.Combine(AppContext.BaseDirectory, "dora.dll")}' cat /big.bin --offset 1000000 --length 1500000 > '{output}'" },
            WorkingDirectory = _directory.Path,
        })!;
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        Assert.Equal(0, process.ExitCode);
        Assert.Equal(_big.AsSpan(1_000_000, 1_500_000).ToArray(), await File.ReadAllBytesAsync(output));
    }

    [Theory]
    [InlineData(new[] { "cat", "/missing.bin" }, 1, "No such file or directory: '/missing.bin'")]
    [InlineData(new[] { "cat", "/nested" }, 2, "is a directory")]
    [InlineData(new[] { "stat", "/a/../b" }, 1, "Invalid path")]
    [InlineData(new[] { "ls" }, 2, "needs a path")]
    [InlineData(new[] { "cat", "/big.bin", "--offset", "-5" }, 2, "option '--offset'")]
    [InlineData(new[] { "ls", "/", "--bogus", "1" }, 2, "unknown option '--bogus'")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "lake" }, 2, "is not PREFIX=URI")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "/lake=ftp://host/x" }, 2, "is not a file:// or s3:// URI")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "/lake=s3://Bad_Bucket/x" }, 2, "not a valid bucket name")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "/=file:///no/such/folder" }, 2, "does not exist")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "/a=s3://bucket/x?consistency=sometimes" }, 2, "must be ttl, immutable or always")]
    [InlineData(new[] { "worker", "--registry", "static:none.json", "--mount", "/=s3://bucket/x", "--s3-access-key", "AKIA" }, 2, "or neither")]
    [InlineData(new[] { "worker", "--registry", "static:none.json" }, 1, "does not exist")]
    public async Task Bad_client_commands_fail_with_the_reason(string[] arguments, int exitCode, string expected)
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, arguments);
        Assert.Equal(exitCode, code);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stopping_dora_local_removes_the_cluster_file()
    {
        string file = _directory.Combine(".dora", "cluster.json");
        Assert.True(File.Exists(file));
        await _local!.TerminateAsync();
        Assert.Equal(0, await _local.WaitForExitAsync());
        Assert.False(File.Exists(file));
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "ls", "/");
        Assert.Equal(2, code);
        Assert.Contains("no cluster found", output, StringComparison.Ordinal);
    }
}
