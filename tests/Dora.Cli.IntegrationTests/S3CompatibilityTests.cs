using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary>
/// Independent S3 clients against the gateway of a running <c>dora local</c>, as users run them: Debian's AWS CLI
/// (<c>aws s3 ls/cp/sync</c>, <c>s3api get-object --range</c>, a 100 MiB multipart upload), Debian's boto3 (paginator,
/// multipart upload_file, parallel ranged download_file) and the AWS SDK for JavaScript v3 from npm. Every byte is
/// checked by SHA-256. ./test.sh installs the clients.
/// </summary>
public sealed class S3CompatibilityTests : IAsyncLifetime, IDisposable
{
    private const string AccessKey = "compat-key";
    private const string Secret = "compat-secret-0123456789";
    private readonly TemporaryDirectory _directory = new("s3-compat");
    private DoraProcess? _local;
    private string _endpoint = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Combine("data", "lake", "tables"));
        TestFiles.Write(_directory.Combine("data", "lake", "tables", "part-0.bin"), 3_000_000, seed: 1);
        await File.WriteAllTextAsync(_directory.Combine("data", "lake", "readme.txt"), "a lake\n");
        Directory.CreateDirectory(_directory.Combine("work"));
        _local = DoraProcess.Start(
            _directory.Path,
            new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = AccessKey, ["AWS_SECRET_ACCESS_KEY"] = Secret },
            "local", "--ufs", "data", "--workers", "2", "--http-port", "0", "--stream-port", "0", "--flight-port", "0", "--scheduler-port", "0", "--s3-port", "0");
        await _local.WaitForOutputAsync("Press Ctrl+C to stop.");
        using var cluster = JsonDocument.Parse(await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json")));
        _endpoint = cluster.RootElement.GetProperty("workers")[1].GetProperty("s3Uri").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Dispose();

    private static string Sha256(string path)
    {
        using FileStream file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    private async Task<string> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory.Combine("work") };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = AccessKey;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = Secret;
        start.Environment["AWS_DEFAULT_REGION"] = "us-east-1";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_CONFIG_FILE"] = _directory.Combine("work", "no-config");
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = _directory.Combine("work", "no-credentials");
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        string all = await output + await errors;
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {all}");
        return all;
    }

    private Task<string> AwsAsync(params string[] arguments) => RunAsync("/usr/bin/aws", ["--endpoint-url", _endpoint, .. arguments]);

    [Fact]
    public async Task The_aws_cli_lists_copies_syncs_ranges_and_uploads_100_MiB_in_parts()
    {
        string listing = await AwsAsync("s3", "ls", "s3://lake/");
        Assert.Contains("PRE tables/", listing, StringComparison.Ordinal);
        Assert.Contains("readme.txt", listing, StringComparison.Ordinal);
        Assert.Contains("lake", await AwsAsync("s3", "ls"), StringComparison.Ordinal);

        string big = _directory.Combine("work", "big.bin");
        TestFiles.Write(big, 100 << 20, seed: 2);
        await AwsAsync("s3", "cp", big, "s3://lake/uploads/big.bin");
        Assert.Equal(Sha256(big), Sha256(_directory.Combine("data", "lake", "uploads", "big.bin")));
        await AwsAsync("s3", "cp", "s3://lake/uploads/big.bin", _directory.Combine("work", "big-back.bin"));
        Assert.Equal(Sha256(big), Sha256(_directory.Combine("work", "big-back.bin")));

        await AwsAsync("s3api", "get-object", "--bucket", "lake", "--key", "tables/part-0.bin", "--range", "bytes=1000000-1000099", _directory.Combine("work", "range.bin"));
        byte[] source = File.ReadAllBytes(_directory.Combine("data", "lake", "tables", "part-0.bin"));
        Assert.Equal(source.AsSpan(1_000_000, 100).ToArray(), File.ReadAllBytes(_directory.Combine("work", "range.bin")));

        Directory.CreateDirectory(_directory.Combine("work", "tree", "a"));
        for (int i = 0; i < 5; i++)
        {
            TestFiles.Write(_directory.Combine("work", "tree", "a", $"f{i}.bin"), 10_000 * (i + 1), seed: 10 + i);
        }

        await AwsAsync("s3", "sync", _directory.Combine("work", "tree"), "s3://lake/synced/");
        await AwsAsync("s3", "sync", "s3://lake/synced/", _directory.Combine("work", "tree-back"));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(Sha256(_directory.Combine("work", "tree", "a", $"f{i}.bin")), Sha256(_directory.Combine("work", "tree-back", "a", $"f{i}.bin")));
        }

        await AwsAsync("s3", "rm", "--recursive", "s3://lake/synced/");
        Assert.False(Directory.Exists(_directory.Combine("data", "lake", "synced")));
    }

    [Fact]
    public async Task Boto3_paginates_uploads_and_downloads_in_parts()
    {
        string output = await RunAsync("/usr/bin/python3", RepositoryFiles.PathOf("tests/Dora.Cli.IntegrationTests/Scripts/boto3_compat.py"), _endpoint, "lake", _directory.Combine("work"));
        Assert.Contains("upload_file (multipart) and download_file (ranged parts): sha256 equal", output, StringComparison.Ordinal);
        Assert.Contains("missing key: NoSuchKey", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_javascript_sdk_v3_puts_gets_uploads_in_parts_and_deletes()
    {
        string output = await NodeScript.RunAsync(RepositoryFiles.PathOf("tests/Dora.Cli.IntegrationTests/Scripts/js-sdk-compat.cjs"), _endpoint, AccessKey, Secret, "lake");
        Assert.Contains("lib-storage Upload (multipart): sha256 equal", output, StringComparison.Ordinal);
        Assert.Contains("DeleteObject, then HeadObject: 404", output, StringComparison.Ordinal);
    }
}
