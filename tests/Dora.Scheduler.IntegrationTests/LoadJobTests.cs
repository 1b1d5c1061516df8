using System.Net;
using System.Text.Json;
using Dora.Core.Protocol;
using Dora.Formats;
using Dora.Scheduler.Jobs;
using Dora.TestSupport;
using Parquet;
using Parquet.Schema;

namespace Dora.Scheduler.IntegrationTests;

public sealed class LoadJobTests : IAsyncLifetime
{
    private static readonly string[] BinaryFiles = ["/data/a.bin", "/data/b.bin", "/data/deep/c.bin", "/data/deep/deeper/d.log", "/other/e.bin"];

    private SchedulerCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = await SchedulerCluster.StartAsync(3, ufs =>
        {
            int seed = 1;
            foreach (string file in BinaryFiles)
            {
                string local = Path.Combine(ufs, file.TrimStart('/'));
                Directory.CreateDirectory(Path.GetDirectoryName(local)!);
                TestFiles.Write(local, (300 << 10) + (seed * 7919), seed++);
            }

            File.WriteAllBytes(Path.Combine(ufs, "data", "empty.bin"), []);
            WriteParquetAsync(Path.Combine(ufs, "table.parquet")).GetAwaiter().GetResult();
        });
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    /// <summary>Three double columns, two row groups of 40,000 rows: each chunk is about 5 pages of 64 KiB.</summary>
    private static async Task WriteParquetAsync(string path)
    {
        var fields = new[] { new DataField<double>("a"), new DataField<double>("b"), new DataField<double>("c") };
        await using var stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream);
        var random = new Random(5);
        for (int group = 0; group < 2; group++)
        {
            using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
            foreach (DataField<double> field in fields)
            {
                double[] values = [.. Enumerable.Range(0, 40_000).Select(_ => random.NextDouble())];
                await rowGroup.WriteAsync<double>(field, values);
            }
        }
    }

    [Fact]
    public async Task A_directory_load_caches_every_page_of_every_file_on_its_owner()
    {
        JobDocument job = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data"}""")).Id);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(5, job.Progress.FilesPlanned);
        Assert.Equal(5, job.Progress.FilesLoaded);
        foreach (string file in BinaryFiles.Where(f => f.StartsWith("/data/", StringComparison.Ordinal)))
        {
            StatReply status = await _cluster.Client.StatAsync(file);
            Assert.Equal(status.Length, status.CachedBytes);

            // Checked page by page on the owner, against each page's checksum.
            VerifyReply verify = await _cluster.Client.VerifyAsync(_cluster.Client.Cluster.OwnerOf(file), file);
            Assert.Equal(verify.Pages, verify.IntactPages);
        }

        Assert.Equal(0, await _cluster.CachedBytesAsync("/other/e.bin"));
        Assert.Equal(job.Progress.BytesPlanned, job.Progress.BytesLoaded);
    }

    [Fact]
    public async Task A_column_limited_load_caches_only_those_chunks_and_the_footer()
    {
        JobDocument job = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/table.parquet","columns":["b"]}""")).Id);
        Assert.Equal(JobState.Succeeded, job.State);

        // The pages that the head magic, the footer and column b's two chunks touch: nothing else is cached.
        string local = Path.Combine(_cluster.UfsPath, "table.parquet");
        byte[] bytes = await File.ReadAllBytesAsync(local);
        ParquetLayout layout = await ParquetLayout.ReadAsync((offset, destination, _) =>
        {
            bytes.AsMemory((int)offset, destination.Length).CopyTo(destination);
            return ValueTask.CompletedTask;
        }, bytes.Length, "/table.parquet", CancellationToken.None);
        var pages = new SortedSet<long>();
        void Touch(long offset, long length)
        {
            for (long page = offset / SchedulerCluster.PageSize; page <= (offset + length - 1) / SchedulerCluster.PageSize; page++)
            {
                pages.Add(page);
            }
        }

        Touch(0, 4);
        Touch(layout.FooterOffset, layout.Footer.Length);
        foreach ((long offset, long length) in layout.ChunkRanges(["b"]))
        {
            Touch(offset, length);
        }

        long expected = pages.Sum(p => Math.Min(SchedulerCluster.PageSize, bytes.Length - (p * SchedulerCluster.PageSize)));
        await _cluster.AssertCachedAsync("/table.parquet", expected);
        Assert.True(expected < bytes.Length / 2, $"{expected} of {bytes.Length} bytes cached: the other columns were loaded too");
    }

    [Fact]
    public async Task Filters_patterns_and_recursion_choose_the_files()
    {
        JobDocument glob = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data","filter":"*.bin","recursive":false}""")).Id);
        Assert.Equal(3, glob.Progress.FilesPlanned); // a.bin, b.bin, empty.bin: not deep/c.bin
        Assert.Equal(0, await _cluster.CachedBytesAsync("/data/deep/c.bin"));

        JobDocument regex = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/","filterRegex":"\\.log$"}""")).Id);
        Assert.Equal(1, regex.Progress.FilesPlanned);
        StatReply log = await _cluster.Client.StatAsync("/data/deep/deeper/d.log");
        Assert.Equal(log.Length, log.CachedBytes);

        JobDocument pattern = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data/**/c.*"}""")).Id);
        Assert.Equal(1, pattern.Progress.FilesPlanned);
        await _cluster.AssertCachedAsync("/data/deep/c.bin", (await _cluster.Client.StatAsync("/data/deep/c.bin")).Length);
        Assert.Equal(0, await _cluster.CachedBytesAsync("/other/e.bin"));
    }

    [Fact]
    public async Task Skip_if_cached_skips_cached_files_and_turned_off_fetches_them_anew()
    {
        JobDocument first = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/other"}""")).Id);
        Assert.Equal(1, first.Progress.FilesLoaded);

        int reads = _cluster.Storages.Sum(s => s.Reads);
        JobDocument skipped = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/other"}""")).Id);
        Assert.Equal((1, 0), (skipped.Progress.FilesSkipped, skipped.Progress.FilesLoaded));
        Assert.Equal((first.Progress.BytesLoaded, 0L), (skipped.Progress.BytesSkipped, skipped.Progress.BytesLoaded));
        Assert.Equal(reads, _cluster.Storages.Sum(s => s.Reads));

        JobDocument again = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/other","skipIfCached":false}""")).Id);
        Assert.Equal((0, 1), (again.Progress.FilesSkipped, again.Progress.FilesLoaded));
        Assert.Equal(first.Progress.BytesLoaded, again.Progress.BytesLoaded);
        int pages = (int)((first.Progress.BytesLoaded + SchedulerCluster.PageSize - 1) / SchedulerCluster.PageSize);
        Assert.Equal(reads + pages, _cluster.Storages.Sum(s => s.Reads));
        await _cluster.AssertCachedAsync("/other/e.bin", first.Progress.BytesLoaded);
    }

    [Fact]
    public async Task Damaged_parquet_files_fail_one_by_one_named_and_counted_against_max_failed_files()
    {
        string mixed = Path.Combine(_cluster.UfsPath, "mixed");
        Directory.CreateDirectory(mixed);
        byte[] good = await File.ReadAllBytesAsync(Path.Combine(_cluster.UfsPath, "table.parquet"));
        await File.WriteAllBytesAsync(Path.Combine(mixed, "good-1.parquet"), good);
        await File.WriteAllBytesAsync(Path.Combine(mixed, "good-2.parquet"), good);

        // A footer of the right length and magic full of garbage, and a file cut short.
        byte[] garbage = (byte[])good.Clone();
        int footerLength = BitConverter.ToInt32(good, good.Length - 8);
        new Random(3).NextBytes(garbage.AsSpan(good.Length - 8 - footerLength, footerLength));
        await File.WriteAllBytesAsync(Path.Combine(mixed, "garbage-footer.parquet"), garbage);
        await File.WriteAllBytesAsync(Path.Combine(mixed, "cut.parquet"), good[..(good.Length / 2)]);

        JobDocument tolerant = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/mixed","columns":["a"],"maxFailedFiles":2}""")).Id);
        Assert.True(tolerant.State == JobState.Succeeded, System.Text.Encoding.UTF8.GetString(tolerant.ToJson()));
        Assert.Equal((4, 2, 2), (tolerant.Progress.FilesPlanned, tolerant.Progress.FilesLoaded, tolerant.Progress.FilesFailed));
        Assert.Equal(["/mixed/cut.parquet", "/mixed/garbage-footer.parquet"], tolerant.Failures.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.All(tolerant.Failures, f => Assert.Contains(f.Path, f.Reason, StringComparison.Ordinal));

        JobDocument strict = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/mixed","columns":["a"],"maxFailedFiles":1,"skipIfCached":false}""")).Id);
        Assert.Equal(JobState.Failed, strict.State);
        Assert.Contains("maxFailedFiles (1)", strict.Error, StringComparison.Ordinal);
        Assert.Contains("/mixed/", strict.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_reports_a_page_deleted_behind_the_cache()
    {
        JobDocument loaded = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data/a.bin"}""")).Id);
        Assert.Equal(JobState.Succeeded, loaded.State);

        int owner = _cluster.Cluster.Workers.ToList().FindIndex(w => w.Identity.Id == _cluster.Client.Cluster.OwnerOf("/data/a.bin").Id);
        string pageFile = Directory.EnumerateFiles(_cluster.CacheDirectory(owner), "*.page", SearchOption.AllDirectories).First();
        File.Delete(pageFile);

        JobDocument verified = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data/a.bin","verify":true}""")).Id);
        Assert.Equal(JobState.Failed, verified.State);
        Assert.Equal(1, verified.Progress.PagesMissing);
        FileFailure failure = Assert.Single(verified.Failures);
        Assert.Equal("/data/a.bin", failure.Path);
        Assert.Contains("verify: 1 of", failure.Reason, StringComparison.Ordinal);

        // The damaged page was dropped, so the next load fetches it again and verifies clean.
        JobDocument repaired = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data/a.bin","verify":true}""")).Id);
        Assert.Equal(JobState.Succeeded, repaired.State);
        Assert.Equal(0, repaired.Progress.PagesMissing);
    }

    [Fact]
    public async Task The_bandwidth_limit_holds_within_ten_percent()
    {
        // a.bin and b.bin, about 630 KB, at 256 KiB/s: about 2.4 s, so scheduling noise stays well inside the 10%.
        JobDocument job = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/data","recursive":false,"filter":"?.bin","bandwidth":"256KiB"}""")).Id);
        Assert.Equal(JobState.Succeeded, job.State);
        double expected = job.Progress.BytesLoaded / (256.0 * 1024);
        double took = (job.FinishedAt!.Value - job.StartedAt!.Value).TotalSeconds;
        Assert.InRange(took, expected * 0.9, expected * 1.1);
    }

    [Fact]
    public async Task Cancel_stops_the_work()
    {
        foreach (var storage in _cluster.Storages)
        {
            storage.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        JobDocument job = await _cluster.SubmitAsync("""{"type":"load","path":"/data"}""");
        await _cluster.WaitUntilAsync(job.Id, j => j.State == JobState.Running && j.Progress.FilesPlanned > 0);
        using HttpResponseMessage cancel = await _cluster.Http.PostAsync($"api/v1/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        JobDocument cancelled = await _cluster.WaitAsync(job.Id);
        Assert.Equal(JobState.Cancelled, cancelled.State);

        // Once the under storage answers again, nothing more of the job runs.
        int reads = _cluster.Storages.Sum(s => s.Reads);
        _cluster.OpenGates();
        await Task.Delay(300);
        JobDocument later = await _cluster.GetAsync(job.Id);
        Assert.Equal(cancelled.Progress.TasksDone, later.Progress.TasksDone);
        Assert.Equal(JobState.Cancelled, later.State);
        Assert.True(_cluster.Storages.Sum(s => s.Reads) <= reads + 16, "loads went on after the cancel");
    }

    [Theory]
    [InlineData("{", "body", "not valid JSON")]
    [InlineData("[]", "body", "JSON object")]
    [InlineData("""{"path":"/data"}""", "type", "\"type\" is required")]
    [InlineData("""{"type":"copy","path":"/data"}""", "type", "unknown job type 'copy'")]
    [InlineData("""{"type":"load"}""", "path", "\"path\" is required")]
    [InlineData("""{"type":"load","path":"/a/../b"}""", "path", "..")]
    [InlineData("""{"type":"load","path":"/data","bandwidth":"fast"}""", "bandwidth", "size")]
    [InlineData("""{"type":"load","path":"/data","columns":[]}""", "columns", "at least one column")]
    [InlineData("""{"type":"load","path":"/data","columns":"a"}""", "columns", "array")]
    [InlineData("""{"type":"load","path":"/data","verify":"yes"}""", "verify", "true or false")]
    [InlineData("""{"type":"load","path":"/data","filterRegex":"("}""", "filterRegex", "not a valid regular expression")]
    [InlineData("""{"type":"load","path":"/data","speed":1}""", "speed", "unknown field 'speed'")]
    public async Task Bad_requests_get_a_400_problem_naming_the_field(string body, string field, string expected)
    {
        using HttpResponseMessage response = await _cluster.PostJobAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
        Assert.Contains(expected, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_utf8_gets_a_400_problem_saying_so()
    {
        // {"type":"load","path":"/d\x84"}: a byte no UTF-8 text holds, inside a string.
        byte[] body = [.. "{\"type\":\"load\",\"path\":\"/d"u8, 0x84, .. "\"}"u8];
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await _cluster.Http.PostAsync("api/v1/jobs", content).Within();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not valid UTF-8", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_jobs_are_404_and_a_missing_path_fails_the_job_naming_it()
    {
        using HttpResponseMessage get = await _cluster.Http.GetAsync("api/v1/jobs/j-nope");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using HttpResponseMessage cancel = await _cluster.Http.PostAsync("api/v1/jobs/j-nope/cancel", null);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);

        JobDocument missing = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/no/such/dir"}""")).Id);
        Assert.Equal(JobState.Failed, missing.State);
        Assert.Contains("/no/such/dir", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_stream_load_and_verify_name_a_range_outside_the_file()
    {
        var owner = _cluster.Client.Cluster.OwnerOf("/data/a.bin");
        var load = await Assert.ThrowsAsync<Dora.Client.WorkerRequestException>(() => _cluster.Client.LoadAsync(owner, "/data/a.bin", offset: 1L << 40));
        Assert.Contains("outside '/data/a.bin'", load.Message, StringComparison.Ordinal);
        var verify = await Assert.ThrowsAsync<Dora.Core.Errors.DoraFileNotFoundException>(() => _cluster.Client.VerifyAsync(owner, "/data/missing.bin"));
        Assert.Contains("/data/missing.bin", verify.Message, StringComparison.Ordinal);

        LoadReply loaded = await _cluster.Client.LoadAsync(owner, "/data/a.bin", offset: 100_000, length: 10);
        Assert.Equal((1L, 1L, 0L), (loaded.Pages, loaded.FetchedPages, loaded.CachedPages));
        LoadReply again = await _cluster.Client.LoadAsync(owner, "/data/a.bin", offset: 100_000, length: 10);
        Assert.Equal((1L, 0L, 1L), (again.Pages, again.FetchedPages, again.CachedPages));
    }

    [Fact]
    public async Task Jobs_are_listed_and_metrics_count_them()
    {
        JobDocument job = await _cluster.WaitAsync((await _cluster.SubmitAsync("""{"type":"load","path":"/other"}""")).Id);
        string list = await _cluster.Http.GetStringAsync("api/v1/jobs");
        Assert.Contains(job.Id, list, StringComparison.Ordinal);
        Assert.Contains("\"state\":\"succeeded\"", list, StringComparison.Ordinal);
        Dictionary<string, double> metrics = PrometheusSamples.Parse(await _cluster.Http.GetStringAsync("metrics"));
        Assert.True(metrics["dora_scheduler_jobs{state=\"succeeded\"}"] >= 1);
        Assert.Equal(job.Progress.BytesLoaded, metrics["dora_scheduler_loaded_bytes"]);
        Assert.Equal("ok\n", await _cluster.Http.GetStringAsync("healthz"));
    }
}
