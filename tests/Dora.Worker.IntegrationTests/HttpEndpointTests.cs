using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Worker.IntegrationTests;

/// <summary>A real worker on a loopback port, driven by a real HTTP client.</summary>
public sealed class HttpEndpointTests : IAsyncLifetime, IDisposable
{
    private const int PageSize = 16 * 1024;
    private readonly TemporaryDirectory _temp = new("http");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private WorkerHost _worker = null!;
    private byte[] _file = [];

    public async Task InitializeAsync()
    {
        var ufs = _temp.Combine("ufs");
        _file = TestFiles.Write(Path.Combine(ufs, "data", "f.bin"), (3 * PageSize) + 100, seed: 1);
        TestFiles.Write(Path.Combine(ufs, "data", "g.bin"), 10, seed: 2);
        TestFiles.Write(Path.Combine(ufs, "empty.bin"), 0, seed: 3);
        var options = new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(ufs))]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(_temp.Combine("cache"), 64L << 20)], PageSize = PageSize },
            Metadata = new MetadataOptions { DatabaseDirectory = _temp.Combine("metadata") },
            HttpPort = 0,
            Stream = new() { Port = 0 },
        };
        _worker = await WorkerHost.StartAsync(options, null, CancellationToken.None).Within();
        _http.BaseAddress = _worker.HttpAddress;
    }

    public async Task DisposeAsync() => await _worker.DisposeAsync().AsTask().Within();

    // Runs after DisposeAsync: the worker is stopped before its folders go.
    public void Dispose()
    {
        _http.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public async Task Workers_is_503_until_the_worker_has_joined_a_cluster()
    {
        // This worker runs alone, with no registry: it has no membership to report.
        var response = await _http.GetAsync("/v1/workers").Within();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("has not joined a cluster", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        var response = await _http.GetAsync("/healthz").Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await GetJson("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(0, health.GetProperty("reasons").GetArrayLength());
        Assert.Equal(_worker.Identity.Id, health.GetProperty("workerId").GetString());
    }

    [Fact]
    public async Task Healthz_says_degraded_and_why_while_the_cache_directory_is_bypassed()
    {
        // The page folder turns into a plain file: the next page write fails and the directory is bypassed.
        var pages = Path.Combine(_temp.Combine("cache"), "pages");
        Directory.Delete(pages, recursive: true);
        File.WriteAllText(pages, "in the way");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/g.bin");
        (await _http.SendAsync(request).Within()).EnsureSuccessStatusCode();
        await _worker.Engine.Pages.WhenIdleAsync(default).Within();

        var response = await _http.GetAsync("/healthz").Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await GetJson("/healthz");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        string reason = health.GetProperty("reasons")[0].GetString()!;
        Assert.Contains(_temp.Combine("cache"), reason, StringComparison.Ordinal);
        Assert.Contains("page write failed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_whole_file_read_returns_200_with_every_byte()
    {
        var response = await _http.GetAsync("/v1/data?path=/data/f.bin").Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_file.Length, response.Content.Headers.ContentLength);
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Equal(_file, await response.Content.ReadAsByteArrayAsync().Within());
    }

    [Theory]
    [InlineData("bytes=0-0", 0, 1)]
    [InlineData("bytes=100-20000", 100, 19901)]
    [InlineData("bytes=16383-16384", 16383, 2)]
    [InlineData("bytes=49000-", 49000, (3 * PageSize) + 100 - 49000)]
    [InlineData("bytes=-50", (3 * PageSize) + 50, 50)]
    [InlineData("bytes=49100-99999999", 49100, (3 * PageSize) + 100 - 49100)]
    public async Task A_range_read_returns_206_with_content_range_and_exact_bytes(string range, int start, int length)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin");
        request.Headers.TryAddWithoutValidation("Range", range);
        var response = await _http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var contentRange = response.Content.Headers.ContentRange!;
        Assert.Equal(start, contentRange.From);
        Assert.Equal(start + length - 1, contentRange.To);
        Assert.Equal(_file.Length, contentRange.Length);
        Assert.Equal(_file.AsSpan(start, length).ToArray(), await response.Content.ReadAsByteArrayAsync().Within());
    }

    [Theory]
    [InlineData("/data/f.bin", "bytes=49252-")]
    [InlineData("/data/f.bin", "bytes=-0")]
    [InlineData("/empty.bin", "bytes=0-")]
    public async Task An_unsatisfiable_range_returns_416_with_the_file_length(string path, string range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=" + path);
        request.Headers.TryAddWithoutValidation("Range", range);
        var response = await _http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("*/", response.Content.Headers.ContentRange!.ToString()[6..8]);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("bytes=abc", "Range")]
    [InlineData("bytes=0-1,5-6", "only one range")]
    [InlineData("lines=0-1", "Range")]
    public async Task A_malformed_range_returns_400_naming_the_header(string range, string fragment)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin");
        request.Headers.TryAddWithoutValidation("Range", range);
        var response = await _http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(fragment, await Detail(response), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/data?path=/nope.bin", HttpStatusCode.NotFound, "/nope.bin")]
    [InlineData("/v1/info?path=/data/nope", HttpStatusCode.NotFound, "/data/nope")]
    [InlineData("/v1/files?path=/nope", HttpStatusCode.NotFound, "/nope")]
    [InlineData("/v1/data", HttpStatusCode.BadRequest, "'path' query parameter is required")]
    [InlineData("/v1/info?path=", HttpStatusCode.BadRequest, "'path' query parameter is required")]
    [InlineData("/v1/data?path=/data/../etc/passwd", HttpStatusCode.BadRequest, "'..' segments")]
    [InlineData("/v1/data?path=data/f.bin", HttpStatusCode.BadRequest, "absolute")]
    [InlineData("/v1/data?path=/a%00b", HttpStatusCode.BadRequest, "NUL")]
    [InlineData("/v1/data?path=/a%5Cb", HttpStatusCode.BadRequest, "backslashes")]
    [InlineData("/v1/data?path=/a&path=/b", HttpStatusCode.BadRequest, "more than once")]
    [InlineData("/v1/data?path=/data", HttpStatusCode.BadRequest, "directory")]
    [InlineData("/v1/files?path=/data/f.bin", HttpStatusCode.BadRequest, "not a directory")]
    [InlineData("/v1/files?path=/data&limit=0", HttpStatusCode.BadRequest, "'limit'")]
    [InlineData("/v1/files?path=/data&limit=ten", HttpStatusCode.BadRequest, "'limit'")]
    public async Task Bad_requests_get_a_problem_naming_what_was_wrong(string url, HttpStatusCode status, string fragment)
    {
        var response = await _http.GetAsync(url).Within();
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains(fragment, await Detail(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_reports_status_and_cached_bytes()
    {
        var before = await GetJson("/v1/info?path=/data/f.bin");
        Assert.Equal(_file.Length, before.GetProperty("length").GetInt64());
        Assert.Equal(0, before.GetProperty("cachedBytes").GetInt64());
        Assert.False(before.GetProperty("isDirectory").GetBoolean());
        Assert.Matches("^\"[0-9a-f]{16}\"$", before.GetProperty("eTag").GetString());
        Assert.True(before.TryGetProperty("lastModified", out _));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin");
        request.Headers.Range = new RangeHeaderValue(0, 10);
        (await _http.SendAsync(request).Within()).EnsureSuccessStatusCode();
        await _worker.Engine.Pages.WhenIdleAsync(default).Within();
        var after = await GetJson("/v1/info?path=/data/f.bin");
        Assert.Equal(PageSize, after.GetProperty("cachedBytes").GetInt64());
    }

    [Fact]
    public async Task Files_lists_a_directory_in_pages()
    {
        var first = await GetJson("/v1/files?path=/data&limit=1");
        var entry = Assert.Single(first.GetProperty("entries").EnumerateArray());
        Assert.Equal("/data/f.bin", entry.GetProperty("path").GetString());
        Assert.Equal(_file.Length, entry.GetProperty("length").GetInt64());
        var token = first.GetProperty("nextToken").GetString();
        var second = await GetJson($"/v1/files?path=/data&limit=1&after={token}");
        Assert.Equal("g.bin", Assert.Single(second.GetProperty("entries").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextToken").ValueKind);
    }

    [Fact]
    public async Task Metrics_are_exposed_in_prometheus_text()
    {
        // Pages are written behind the response: the second read is all hits once the first one's pages are on disk.
        (await _http.GetAsync("/v1/data?path=/data/f.bin").Within()).EnsureSuccessStatusCode();
        var values = await Metrics();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (values["dora_cache_pages"] < 4 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            values = await Metrics();
        }

        (await _http.GetAsync("/v1/data?path=/data/f.bin").Within()).EnsureSuccessStatusCode();
        values = await Metrics();

        // Every page came from the under storage exactly once, whether as a miss or as read-ahead. (When not, the
        // message carries every figure the worker reported, to tell a lost page write from a second fetch.)
        Assert.True(
            values["dora_ufs_read_bytes_total"] == _file.Length,
            $"{values["dora_ufs_read_bytes_total"]} bytes read from the under storage for a file of {_file.Length}: "
            + string.Join(", ", values.Where(v => v.Key.StartsWith("dora_cache", StringComparison.Ordinal) || v.Key.StartsWith("dora_ufs", StringComparison.Ordinal) || v.Key.StartsWith("dora_page", StringComparison.Ordinal)).Select(v => $"{v.Key}={v.Value}")));
        Assert.Equal(8, values["dora_cache_hits_total"] + values["dora_cache_misses_total"]);
        Assert.True(values["dora_cache_hits_total"] >= 3);
        Assert.Equal(_file.Length + (4 * 4096), values["dora_cache_used_bytes"]);
        Assert.Equal(64L << 20, values["dora_cache_capacity_bytes"]);
        Assert.Equal(0, values["dora_cache_evictions_total"]);
        Assert.Equal(0, values["dora_page_checksum_failures_total"]);
        Assert.Equal(1, values["dora_metadata_lookups_total{level=\"ufs\"}"]);
        Assert.Equal(1, values["dora_metadata_lookups_total{level=\"memory\"}"]);
        Assert.Equal(0, values["dora_metadata_lookups_total{level=\"rocksdb\"}"]);
    }

    [Fact]
    public async Task Reads_carry_the_version_and_honour_conditional_headers()
    {
        var first = await _http.GetAsync("/v1/data?path=/data/f.bin").Within();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var etag = first.Headers.ETag!;
        Assert.Equal(_file, await first.Content.ReadAsByteArrayAsync().Within());

        using (var notModified = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin"))
        {
            notModified.Headers.IfNoneMatch.Add(etag);
            Assert.Equal(HttpStatusCode.NotModified, (await _http.SendAsync(notModified).Within()).StatusCode);
        }

        using (var otherVersion = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin"))
        {
            otherVersion.Headers.IfMatch.Add(new EntityTagHeaderValue("\"0000000000000000\""));
            var response = await _http.SendAsync(otherVersion).Within();
            Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
            Assert.Contains("If-Match", await Detail(response), StringComparison.Ordinal);
        }

        using (var sameVersion = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin"))
        {
            sameVersion.Headers.IfMatch.Add(etag);
            sameVersion.Headers.Range = new RangeHeaderValue(10, 19);
            var response = await _http.SendAsync(sameVersion).Within();
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(_file.AsSpan(10, 10).ToArray(), await response.Content.ReadAsByteArrayAsync().Within());
        }

        // If-Range with another version: the whole (current) file instead of the range.
        using (var staleRange = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin"))
        {
            staleRange.Headers.Range = new RangeHeaderValue(10, 19);
            staleRange.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"0000000000000000\""));
            var response = await _http.SendAsync(staleRange).Within();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(_file.Length, (await response.Content.ReadAsByteArrayAsync().Within()).Length);
        }
    }

    [Fact]
    public async Task Head_answers_like_get_without_a_body()
    {
        using var head = new HttpRequestMessage(HttpMethod.Head, "/v1/data?path=/data/f.bin");
        var response = await _http.SendAsync(head).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(_file.Length, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync().Within());

        using var missing = new HttpRequestMessage(HttpMethod.Head, "/v1/data?path=/data/nope.bin");
        Assert.Equal(HttpStatusCode.NotFound, (await _http.SendAsync(missing).Within()).StatusCode);
    }

    [Fact]
    public async Task A_file_replaced_while_partly_cached_is_served_whole_from_its_new_version()
    {
        using (var partial = new HttpRequestMessage(HttpMethod.Get, "/v1/data?path=/data/f.bin"))
        {
            partial.Headers.Range = new RangeHeaderValue(0, PageSize - 1);
            (await _http.SendAsync(partial).Within()).EnsureSuccessStatusCode();
        }

        await _worker.Engine.Pages.WhenIdleAsync(default).Within();
        var after = TestFiles.RewriteKeepingLengthAndTime(_temp.Combine("ufs", "data", "f.bin"), seed: 9);
        var whole = await _http.GetAsync("/v1/data?path=/data/f.bin").Within();
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(after, await whole.Content.ReadAsByteArrayAsync().Within());
    }

    [Fact]
    public async Task Invalidate_and_evict_over_http()
    {
        Assert.Equal(_file, await _http.GetByteArrayAsync("/v1/data?path=/data/f.bin").Within());
        await _worker.Engine.Pages.WhenIdleAsync(default).Within();
        var after = TestFiles.RewriteKeepingLengthAndTime(_temp.Combine("ufs", "data", "f.bin"), seed: 7);

        var invalidated = await _http.PostAsync("/v1/invalidate?path=/data/f.bin", null).Within();
        Assert.Equal(HttpStatusCode.OK, invalidated.StatusCode);
        var reply = JsonDocument.Parse(await invalidated.Content.ReadAsStringAsync().Within()).RootElement;
        Assert.Equal(4, reply.GetProperty("droppedPages").GetInt64());
        Assert.Equal(after, await _http.GetByteArrayAsync("/v1/data?path=/data/f.bin").Within());
        await _worker.Engine.Pages.WhenIdleAsync(default).Within();

        var evicted = await _http.PostAsync("/v1/evict?path=/data/f.bin", null).Within();
        Assert.Equal(4, JsonDocument.Parse(await evicted.Content.ReadAsStringAsync().Within()).RootElement.GetProperty("droppedPages").GetInt64());

        var bad = await _http.PostAsync("/v1/invalidate?path=/data&recursive=yes", null).Within();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("recursive", await Detail(bad), StringComparison.Ordinal);
        var directory = await _http.PostAsync("/v1/evict?path=/data", null).Within();
        Assert.Equal(HttpStatusCode.BadRequest, directory.StatusCode);
    }

    [Fact]
    public async Task A_client_that_stops_reading_does_not_hold_up_the_workers_shutdown()
    {
        TestFiles.Write(_temp.Combine("ufs", "data", "big.bin"), 64 << 20, seed: 5);
        using var stalled = new HttpClient(new SocketsHttpHandler()) { BaseAddress = _worker.HttpAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var response = await stalled.GetAsync("/v1/data?path=/data/big.bin", HttpCompletionOption.ResponseHeadersRead).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The host's default would wait 30 s for this response; the worker allows 5 s.
        await _worker.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>The Prometheus samples of /metrics by name and labels (the exporter's scope label left out).</summary>
    private async Task<Dictionary<string, double>> Metrics()
    {
        var response = await _http.GetAsync("/metrics").Within();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync().Within();
        return PrometheusSamples.Parse(text);
    }

    private async Task<JsonElement> GetJson(string url)
    {
        var response = await _http.GetAsync(url).Within();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync().Within()).RootElement;
    }

    private static async Task<string> Detail(HttpResponseMessage response)
    {
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().Within()).RootElement;
        return body.GetProperty("detail").GetString()!;
    }
}
