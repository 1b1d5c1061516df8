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

        // Several paths: one JSON object each, in the order given.
        string several = await DoraAsync("stat", "/nested/small.txt", "/big.bin", "--json");
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(several), new JsonReaderOptions { AllowMultipleValues = true });
        var paths = new List<string>();
        while (reader.Read())
        {
            using JsonDocument document = JsonDocument.ParseValue(ref reader);
            paths.Add(document.RootElement.GetProperty("path").GetString()!);
        }

        Assert.Equal(["/nested/small.txt", "/big.bin"], paths);
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
    [InlineData(new[] { "ls" }, 2, "Required argument 'PATH' missing")]
    [InlineData(new[] { "cat", "/big.bin", "--offset", "-5" }, 2, "option '--offset'")]
    [InlineData(new[] { "ls", "/", "--bogus", "1" }, 2, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "ls", "/", "--token-file", "--json" }, 2, "option '--token-file' needs a value, not the option '--json'")]
    [InlineData(new[] { "ls", "/", "--limit", "5", "--limit", "6" }, 2, "'--limit' expects a single argument")]
    [InlineData(new[] { "local", "--cache-size", "1MiB", "--page-size", "1MiB" }, 2, "option '--cache-size' (1 MiB) must hold at least 4 pages")]
    [InlineData(new[] { "local", "--flight-decode-memory", "1MiB" }, 2, "option '--flight-decode-memory' must be at least 16 MiB (was 1 MiB)")]
    [InlineData(new[] { "frobnicate" }, 2, "Unrecognized command or argument 'frobnicate'")]
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
    public async Task Invalidate_and_evict_from_the_command_line()
    {
        Assert.Equal(10, (await DoraAsync("cat", "/nested/small.txt")).Length);
        byte[] after = TestFiles.RewriteKeepingLengthAndTime(_directory.Combine("data", "nested", "small.txt"), seed: 3);
        string invalidated = await DoraAsync("invalidate", "/nested/small.txt");
        Assert.Contains("invalidated /nested/small.txt on 3 workers", invalidated, StringComparison.Ordinal);
        Assert.Contains("1 pages of an older version dropped", invalidated, StringComparison.Ordinal);

        string catOutput = _directory.Combine("small.out");
        using (var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh")
        {
            ArgumentList = { "-c", $"dotnet '{Path.Combine(AppContext.BaseDirectory, "dora.dll")}' cat /nested/small.txt > '{catOutput}'" },
            WorkingDirectory = _directory.Path,
        })!)
        {
            await process.WaitForExitAsync().Within();
            Assert.Equal(0, process.ExitCode);
        }

        Assert.Equal(after, await File.ReadAllBytesAsync(catOutput));
        using var evicted = JsonDocument.Parse(await DoraAsync("evict", "/nested/small.txt", "--json"));
        Assert.Equal(1, evicted.RootElement.GetProperty("droppedPages").GetInt64());
        using var recursive = JsonDocument.Parse(await DoraAsync("invalidate", "/nested", "--recursive", "--json"));
        Assert.True(recursive.RootElement.GetProperty("recursive").GetBoolean());
    }

    [Fact]
    public async Task Every_command_answers_help()
    {
        string[] commands = ["local", "worker", "scheduler", "workers", "ls", "stat", "cat", "load", "jobs", "invalidate", "evict"];
        string overview = await DoraAsync("--help");
        foreach (string command in commands)
        {
            Assert.Contains(command, overview, StringComparison.Ordinal);
            foreach (string help in new[] { "--help", "-h" })
            {
                string text = await DoraAsync(command, help);
                Assert.Contains("Usage:", text, StringComparison.Ordinal);
                Assert.Contains($"dora {command}", text, StringComparison.Ordinal);
            }
        }

        Assert.Contains("--recursive", await DoraAsync("invalidate", "--help"), StringComparison.Ordinal);
        Assert.Contains("cancel", await DoraAsync("jobs", "--help"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_dora_local_on_the_same_directory_says_one_is_running()
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "local", "--ufs", "data", "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0");
        Assert.Equal(1, code);
        Assert.Contains("another dora local (or a worker) is already running", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);

        // The first one is untouched.
        Assert.Equal(10, (await DoraAsync("cat", "/nested/small.txt")).Length);
    }

    [Fact]
    public async Task A_taken_port_names_the_option_to_change()
    {
        using var cluster = JsonDocument.Parse(await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json")));
        int taken = cluster.RootElement.GetProperty("workers")[0].GetProperty("httpPort").GetInt32();
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "local", "--ufs", "data", "--cache-dir", "other-cache", "--http-port", taken.ToString(System.Globalization.CultureInfo.InvariantCulture), "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0");
        Assert.Equal(1, code);
        Assert.Contains("--http-port", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_file_left_by_a_dead_dora_local_is_called_stale()
    {
        using var stale = new TemporaryDirectory();
        Directory.CreateDirectory(stale.Combine(".dora"));
        string file = stale.Combine(".dora", "cluster.json");
        string text = await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json"));

        // A process id that cannot be running: ids are below 2^22 on Linux.
        await File.WriteAllTextAsync(file, System.Text.RegularExpressions.Regex.Replace(text, "\"pid\": *\\d+", "\"pid\": 99999999"));
        (int code, string output) = await DoraProcess.RunAsync(stale.Path, "ls", "/");
        Assert.Equal(2, code);
        Assert.Contains("is stale", output, StringComparison.Ordinal);
        Assert.Contains(file, output, StringComparison.Ordinal);
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

    [Fact]
    public async Task Mount_refuses_a_missing_or_non_empty_mount_point_naming_it()
    {
        (int missing, string missingOutput) = await DoraProcess.RunAsync(_directory.Path, "mount", _directory.Combine("no-such-dir"));
        Assert.Equal(1, missing);
        Assert.Contains("does not exist", missingOutput, StringComparison.Ordinal);
        (int full, string fullOutput) = await DoraProcess.RunAsync(_directory.Path, "mount", _directory.Combine("data"));
        Assert.Equal(1, full);
        Assert.Contains("is not empty", fullOutput, StringComparison.Ordinal);

        Directory.CreateDirectory(_directory.Combine("empty-mount-point"));
        foreach (string window in new[] { "5000", "2MiB", "-4096" })
        {
            (int refused, string refusedOutput) = await DoraProcess.RunAsync(_directory.Path, "mount", _directory.Combine("empty-mount-point"), "--read-around", window);
            Assert.NotEqual(0, refused);
            Assert.Contains("--read-around", refusedOutput, StringComparison.Ordinal);
        }

        Assert.False(Dora.Fuse.FuseMounts.IsDoraMount(_directory.Combine("empty-mount-point")));
    }

    [Fact]
    public async Task Mount_serves_the_cluster_until_sigterm_and_umount_detaches_a_stale_mount()
    {
        string mountPoint = Directory.CreateDirectory(_directory.Combine("mnt")).FullName;
        await using (DoraProcess mount = DoraProcess.Start(_directory.Path, "mount", mountPoint))
        {
            await mount.WaitForOutputAsync("Ctrl+C to unmount");
            Assert.Equal(_big, await File.ReadAllBytesAsync(Path.Combine(mountPoint, "big.bin")));
            await mount.TerminateAsync();
            Assert.Equal(0, await mount.WaitForExitAsync());
        }

        Assert.False(Dora.Fuse.FuseMounts.IsDoraMount(mountPoint), "SIGTERM left the mount behind");

        // A mount whose process was killed stays in the mount table, every access failing, until dora umount.
        await using (DoraProcess mount = DoraProcess.Start(_directory.Path, "mount", mountPoint))
        {
            await mount.WaitForOutputAsync("Ctrl+C to unmount");
            mount.Kill9();
            await mount.WaitForExitAsync();
        }

        Assert.True(Dora.Fuse.FuseMounts.IsDoraMount(mountPoint));
        Assert.Contains("detached", await DoraAsync("umount", mountPoint), StringComparison.Ordinal);
        Assert.False(Dora.Fuse.FuseMounts.IsDoraMount(mountPoint));
        (int again, string againOutput) = await DoraProcess.RunAsync(_directory.Path, "umount", mountPoint);
        Assert.Equal(1, again);
        Assert.Contains("nothing of Dora is mounted", againOutput, StringComparison.Ordinal);
    }
}
