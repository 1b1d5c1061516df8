using System.Text.Json;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;

namespace Dora.FaultTests;

/// <summary><c>dora scheduler</c>, <c>dora load</c> and <c>dora jobs</c> as real processes against a real etcd and workers.</summary>
public sealed class SchedulerKillTests : IAsyncLifetime, IDisposable
{
    private const int Files = 16;
    private const int FileBytes = 256 << 10;
    private readonly TemporaryDirectory _directory = new();
    private EtcdProcess? _etcd;

    private EtcdProcess Etcd => _etcd ?? throw new InvalidOperationException("etcd is not started.");

    public async Task InitializeAsync()
    {
        _etcd = await EtcdProcess.StartAsync();
        Directory.CreateDirectory(_directory.Combine("ufs", "set"));
        for (int i = 0; i < Files; i++)
        {
            TestFiles.Write(_directory.Combine("ufs", "set", $"f{i:D2}.bin"), FileBytes, i + 1);
        }
    }

    public async Task DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    public void Dispose() => _directory.Dispose();

    private DoraProcess StartWorker(int index) => DoraProcess.Start(
        _directory.Path,
        "worker", "--ufs", "ufs", "--registry", Etcd.RegistryAddress, "--cache-dir", $"cache-{index}", "--page-size", "64KiB",
        "--http-port", "0", "--stream-port", "0", "--flight-port", "0");

    // Default leases: nothing here waits for one to lapse (the restarted scheduler overwrites the killed one's entry), and a
    // short one can lapse on a starved machine, taking the entry away while the test reads it.
    private DoraProcess StartScheduler() => DoraProcess.Start(
        _directory.Path, "scheduler", "--registry", Etcd.RegistryAddress, "--dir", "scheduler", "--port", "0");

    private async Task<JsonElement> JobAsync(string id)
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "jobs", id, "--registry", Etcd.RegistryAddress, "--json");
        Assert.True(code == 0, output);
        using var json = JsonDocument.Parse(output);
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task A_killed_scheduler_restarted_on_its_directory_finishes_the_job_without_reloading_finished_tasks()
    {
        await using DoraProcess worker0 = StartWorker(0);
        await using DoraProcess worker1 = StartWorker(1);
        await worker0.WaitForOutputAsync("is serving");
        await worker1.WaitForOutputAsync("is serving");
        await using (DoraProcess scheduler = StartScheduler())
        {
            await scheduler.WaitForOutputAsync("is serving at");

            // 4 MiB at 1 MiB/s: about 4 s, killed after a third of it.
            (int code, string submitted) = await DoraProcess.RunAsync(_directory.Path, "load", "/set", "--bandwidth", "1MiB", "--registry", Etcd.RegistryAddress, "--json");
            Assert.True(code == 0, submitted);
            string id = JsonDocument.Parse(submitted).RootElement.GetProperty("id").GetString()!;
            DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
            while ((await JobAsync(id)).GetProperty("progress").GetProperty("bytesLoaded").GetInt64() < 1 << 20)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job never got going");
                await Task.Delay(100);
            }

            scheduler.Kill9();
            await scheduler.WaitForExitAsync();

            // The restarted scheduler overwrites the killed one's registry entry with its own.
            await using DoraProcess restarted = StartScheduler();
            await restarted.WaitForOutputAsync("is serving at");
            JsonElement job = await JobAsync(id);
            deadline = DateTime.UtcNow + TestTimeouts.Default;
            while (job.GetProperty("state").GetString() != "succeeded")
            {
                Assert.True(DateTime.UtcNow < deadline, $"the resumed job did not finish: {job}");
                Assert.NotEqual("failed", job.GetProperty("state").GetString());
                await Task.Delay(100);
                job = await JobAsync(id);
            }

            JsonElement progress = job.GetProperty("progress");
            Assert.Equal(Files, progress.GetProperty("filesLoaded").GetInt32());
            Assert.Equal((long)Files * FileBytes, progress.GetProperty("bytesLoaded").GetInt64());
            Assert.True(progress.GetProperty("bytesResumed").GetInt64() >= 1 << 20, $"finished tasks were loaded again: {progress}");
        }
    }

    [Fact]
    public async Task Load_with_bad_options_exits_2_and_a_missing_scheduler_is_named()
    {
        (int code, string output) = await DoraProcess.RunAsync(_directory.Path, "load", "/set", "--bandwidth", "fast", "--registry", Etcd.RegistryAddress);
        Assert.Equal(2, code);
        Assert.Contains("--bandwidth", output, StringComparison.Ordinal);

        (code, output) = await DoraProcess.RunAsync(_directory.Path, "jobs", "--registry", Etcd.RegistryAddress, "--cluster", "empty");
        Assert.Equal(2, code);
        Assert.Contains("no scheduler is advertised", output, StringComparison.Ordinal);
    }
}
