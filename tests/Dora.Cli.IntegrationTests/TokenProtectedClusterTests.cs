using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dora.TestSupport;

namespace Dora.Cli.IntegrationTests;

/// <summary>
/// <c>dora local --token-file</c> as a process: every plane that reaches the same bytes refuses a request without one
/// of the tokens (page stream, Flight, the workers' HTTP API, the scheduler's REST API), <c>/healthz</c> stays open for
/// probes, and the client commands that present a token from the file are served.
/// </summary>
public sealed class TokenProtectedClusterTests : IAsyncLifetime, IDisposable
{
    private const string Token = "cluster-token-1";
    private readonly TemporaryDirectory _directory = new();
    private DoraProcess? _local;
    private JsonDocument? _cluster;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory.Combine("data"));
        TestFiles.Write(_directory.Combine("data", "secret.bin"), 200_000, seed: 7);
        await File.WriteAllTextAsync(_directory.Combine("tokens"), $"{Token}\nretired-later\n");
        _local = DoraProcess.Start(_directory.Path, "local", "--ufs", "data", "--workers", "2", "--http-port", "0", "--stream-port", "0",
            "--flight-port", "0", "--scheduler-port", "0", "--token-file", "tokens");
        await _local.WaitForOutputAsync("Press Ctrl+C to stop.");
        _cluster = JsonDocument.Parse(await File.ReadAllTextAsync(_directory.Combine(".dora", "cluster.json")));
    }

    public async Task DisposeAsync()
    {
        _cluster?.Dispose();
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Dispose();

    private string WorkerHttp => _cluster!.RootElement.GetProperty("workers")[0].GetProperty("httpUri").GetString()!;

    private string SchedulerUrl => _cluster!.RootElement.GetProperty("scheduler").GetProperty("url").GetString()!;

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string url, string? token, string? json = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }

        using HttpResponseMessage response = await http.SendAsync(request).Within();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("GET", "v1/data?path=/secret.bin")]
    [InlineData("HEAD", "v1/data?path=/secret.bin")]
    [InlineData("GET", "v1/info?path=/secret.bin")]
    [InlineData("GET", "v1/files?path=/")]
    [InlineData("POST", "v1/invalidate?path=/secret.bin")]
    [InlineData("POST", "v1/evict?path=/secret.bin")]
    [InlineData("GET", "metrics")]
    public async Task Every_worker_http_endpoint_but_healthz_needs_one_of_the_tokens(string method, string path)
    {
        string url = WorkerHttp + path;
        foreach (string? presented in new[] { null, "wrong-token", "cluster-token" })
        {
            (HttpStatusCode status, string body) = await SendAsync(new HttpMethod(method), url, presented);
            Assert.True(status == HttpStatusCode.Unauthorized, $"{method} {path} with {presented ?? "no token"}: {status}");
            if (method != "HEAD")
            {
                Assert.Contains("Authorization: Bearer", body, StringComparison.Ordinal);
                Assert.DoesNotContain("wrong-token", body, StringComparison.Ordinal);
            }
        }

        // Refusals leave an audit line (rate-limited) with the peer and what was wrong, never the token sent.
        await _local!.WaitForOutputAsync("Refused HTTP authentication from 127.0.0.1");
        Assert.DoesNotContain("wrong-token", _local.Output, StringComparison.Ordinal);
        Assert.Matches(@"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn: Dora.Security", _local.Output);

        (HttpStatusCode allowed, _) = await SendAsync(new HttpMethod(method), url, "retired-later");
        Assert.True(allowed is HttpStatusCode.OK or HttpStatusCode.PartialContent, $"{method} {path} with a token: {allowed}");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, WorkerHttp + "healthz", null)).Status);
    }

    [Fact]
    public async Task The_scheduler_api_needs_a_token_and_dora_load_presents_the_files()
    {
        (HttpStatusCode anonymous, _) = await SendAsync(HttpMethod.Post, SchedulerUrl + "/api/v1/jobs", null, """{"type":"load","path":"/"}""");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, SchedulerUrl + "/api/v1/jobs", "nope")).Status);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, SchedulerUrl + "/healthz", null)).Status);

        (int refused, string refusedOutput) = await DoraProcess.RunAsync(_directory.Path, "load", "/", "--wait");
        Assert.NotEqual(0, refused);
        Assert.Contains("401", refusedOutput, StringComparison.Ordinal);

        (int loaded, string output) = await DoraProcess.RunAsync(_directory.Path, "load", "/", "--wait", "--json", "--token-file", "tokens");
        Assert.True(loaded == 0, output);
        (int listed, string jobs) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = Token }, "jobs", "--json");
        Assert.True(listed == 0, jobs);
    }

    [Fact]
    public async Task Page_stream_commands_need_the_token_and_it_never_reaches_the_log()
    {
        (int anonymous, string refused) = await DoraProcess.RunAsync(_directory.Path, "cat", "/secret.bin", "--length", "16");
        Assert.NotEqual(0, anonymous);
        Assert.Contains("requires a token", refused, StringComparison.Ordinal);
        await _local!.WaitForOutputAsync("Refused page stream authentication from 127.0.0.1");

        (int read, string output) = await DoraProcess.RunAsync(_directory.Path, new Dictionary<string, string?> { ["DORA_TOKEN"] = Token }, "stat", "/secret.bin", "--json");
        Assert.True(read == 0, output);
        Assert.DoesNotContain(Token, _local!.Output, StringComparison.Ordinal);
    }
}
