using Dora.Scheduler.Jobs;
using Dora.TestSupport;

namespace Dora.Scheduler.IntegrationTests;

public sealed class ResumeAndMembershipTests
{
    private static void TwentyFiles(string ufs)
    {
        Directory.CreateDirectory(Path.Combine(ufs, "set"));
        for (int i = 0; i < 20; i++)
        {
            TestFiles.Write(Path.Combine(ufs, "set", $"f{i:D2}.bin"), 200 << 10, i + 1);
        }
    }

    [Fact]
    public async Task A_job_stopped_with_the_scheduler_resumes_after_a_restart_without_redoing_finished_tasks()
    {
        await using SchedulerCluster cluster = await SchedulerCluster.StartAsync(2, TwentyFiles);

        // 4 MiB at 1 MiB/s: the scheduler stops about half way through.
        JobDocument job = await cluster.SubmitAsync("""{"type":"load","path":"/set","bandwidth":"1MiB"}""");
        JobDocument partway = await cluster.WaitUntilAsync(job.Id, j => j.Progress.TasksDone >= 6);
        await cluster.StopSchedulerAsync();
        long cachedAtStop = 0;
        for (int i = 0; i < 20; i++)
        {
            cachedAtStop += await cluster.CachedBytesAsync($"/set/f{i:D2}.bin");
        }

        await cluster.StartSchedulerAsync();
        JobDocument resumed = await cluster.WaitAsync(job.Id);
        Assert.Equal(JobState.Succeeded, resumed.State);
        Assert.Equal(20, resumed.Progress.FilesLoaded);
        Assert.Equal(resumed.Progress.BytesPlanned, resumed.Progress.BytesLoaded);

        // Every task finished before the stop was found in the job store and not loaded again.
        Assert.True(resumed.Progress.BytesResumed >= partway.Progress.BytesLoaded, $"{resumed.Progress.BytesResumed} resumed < {partway.Progress.BytesLoaded} done before the stop");
        Assert.True(resumed.Progress.BytesResumed <= cachedAtStop, "more bytes counted as done before the stop than were cached then");
        for (int i = 0; i < 20; i++)
        {
            await cluster.AssertCachedAsync($"/set/f{i:D2}.bin", 200 << 10);
        }
    }

    [Fact]
    public async Task Finished_jobs_survive_a_restart_and_are_removed_after_the_retention()
    {
        var time = new ShiftedTime();
        await using SchedulerCluster cluster = await SchedulerCluster.StartAsync(1, TwentyFiles, time);
        JobDocument job = await cluster.WaitAsync((await cluster.SubmitAsync("""{"type":"load","path":"/set/f00.bin"}""")).Id);
        await cluster.StopSchedulerAsync();
        await cluster.StartSchedulerAsync(time);
        JobDocument again = await cluster.GetAsync(job.Id);
        Assert.Equal((JobState.Succeeded, job.Progress.BytesLoaded), (again.State, again.Progress.BytesLoaded));

        time.Shift = TimeSpan.FromDays(8);
        Assert.Equal(1, cluster.Scheduler!.Jobs.RemoveExpired());
        Assert.Null(cluster.Scheduler.Jobs.Get(job.Id));
        await cluster.StopSchedulerAsync();
        await cluster.StartSchedulerAsync(time);
        Assert.Null(cluster.Scheduler!.Jobs.Get(job.Id));
    }

    [Fact]
    public async Task Tasks_of_a_worker_that_leaves_mid_job_go_to_the_new_owner()
    {
        await using SchedulerCluster cluster = await SchedulerCluster.StartAsync(3, TwentyFiles);

        // Worker 2's under storage fails (a transient error the scheduler retries); then worker 2 leaves the cluster,
        // and the retries go to the files' new owners.
        cluster.Storages[2].ReadFailure = new IOException("the disk is gone");
        string leaving = cluster.Cluster.Workers[2].Identity.Id;
        int ownedByLeaving = Enumerable.Range(0, 20).Count(i => cluster.Client.Cluster.OwnerOf($"/set/f{i:D2}.bin").Id == leaving);
        Assert.True(ownedByLeaving > 0, "worker 2 owns none of the files: pick other names");
        JobDocument job = await cluster.SubmitAsync("""{"type":"load","path":"/set"}""");
        await cluster.WaitUntilAsync(job.Id, j => j.Progress.FilesPlanned == 20 && j.Progress.FilesLoaded == 20 - ownedByLeaving);
        JobDocument running = await cluster.GetAsync(job.Id);
        Assert.True(running.State == JobState.Running, $"before the worker left: {System.Text.Encoding.UTF8.GetString(running.ToJson())}");
        await cluster.Cluster.StopWorkerAsync(2).Within();

        JobDocument done = await cluster.WaitAsync(job.Id);
        Assert.True(done.State == JobState.Succeeded && done.Progress.FilesLoaded == 20, System.Text.Encoding.UTF8.GetString(done.ToJson()));
        while (cluster.Client.Cluster.Membership.Workers.Count != 2)
        {
            await Task.Delay(20);
        }

        for (int i = 0; i < 20; i++)
        {
            string path = $"/set/f{i:D2}.bin";
            Assert.NotEqual(leaving, cluster.Client.Cluster.OwnerOf(path).Id);
            await cluster.AssertCachedAsync(path, 200 << 10);
        }
    }

    /// <summary>The system clock moved forward by <see cref="Shift"/> (timers keep the real clock).</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
