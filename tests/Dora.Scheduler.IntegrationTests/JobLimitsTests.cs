using System.Net;
using Dora.Scheduler.Jobs;
using Dora.TestSupport;

namespace Dora.Scheduler.IntegrationTests;

/// <summary>
/// The scheduler cannot be filled for good: finished jobs give way to new ones, a job can be deleted, and one client's
/// unfinished jobs are capped so the others can still submit.
/// </summary>
public sealed class JobLimitsTests : IAsyncLifetime
{
    private SchedulerCluster _cluster = null!;

    public async Task InitializeAsync() =>
        _cluster = await SchedulerCluster.StartAsync(1, ufs =>
        {
            Directory.CreateDirectory(Path.Combine(ufs, "data"));
            TestFiles.Write(Path.Combine(ufs, "data", "a.bin"), 50_000, seed: 1);
        }, configure: options => options with { MaxJobs = 3, MaxRunningJobs = 1, MaxUnfinishedJobsPerClient = 2 });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_scheduler_full_of_finished_jobs_takes_new_ones_removing_the_oldest()
    {
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            JobDocument job = await _cluster.SubmitAsync("""{"type":"load","path":"/data"}""");
            Assert.Equal(JobState.Succeeded, (await _cluster.WaitAsync(job.Id)).State);
            ids.Add(job.Id);
        }

        // Three kept (MaxJobs), the newest ones; the first two were removed to make room.
        using HttpResponseMessage first = await _cluster.Http.GetAsync($"api/v1/jobs/{ids[0]}");
        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Equal(JobState.Succeeded, (await _cluster.GetAsync(ids[4])).State);
    }

    [Fact]
    public async Task A_job_can_be_deleted_and_one_client_may_not_hold_more_unfinished_jobs_than_its_share()
    {
        foreach (var storage in _cluster.Storages)
        {
            storage.ReadGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        JobDocument running = await _cluster.SubmitAsync("""{"type":"load","path":"/data"}""");
        JobDocument queued = await _cluster.SubmitAsync("""{"type":"load","path":"/data","skipIfCached":false}""");
        using (HttpResponseMessage third = await _cluster.PostJobAsync("""{"type":"load","path":"/data"}"""))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Contains("this client has 2 unfinished jobs", await third.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Deleting a job (running: it is cancelled first) frees its place and its record.
        using (HttpResponseMessage deleted = await _cluster.Http.DeleteAsync($"api/v1/jobs/{running.Id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (HttpResponseMessage gone = await _cluster.Http.GetAsync($"api/v1/jobs/{running.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        using (HttpResponseMessage unknown = await _cluster.Http.DeleteAsync("api/v1/jobs/j-nope"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }

        JobDocument accepted = await _cluster.SubmitAsync("""{"type":"load","path":"/data"}""");
        _cluster.OpenGates();
        Assert.Equal(JobState.Succeeded, (await _cluster.WaitAsync(queued.Id)).State);
        Assert.Equal(JobState.Succeeded, (await _cluster.WaitAsync(accepted.Id)).State);

        // After a restart the deleted job stays deleted: it left the job store too.
        await _cluster.StopSchedulerAsync();
        await _cluster.StartSchedulerAsync();
        using HttpResponseMessage afterRestart = await _cluster.Http.GetAsync($"api/v1/jobs/{running.Id}");
        Assert.Equal(HttpStatusCode.NotFound, afterRestart.StatusCode);
    }
}
