using Dora.Client;
using Dora.Core.Errors;
using Dora.Core.Protocol;
using Dora.Registry;
using Dora.Scheduler.Jobs;
using Dora.Scheduler.Planning;
using Microsoft.Extensions.Logging;

namespace Dora.Scheduler.Running;

/// <summary>
/// Runs one load job: walks the plan, and for each file skips it when it is cached already (with
/// <c>skipIfCached</c>), else has each of its ranges loaded by the range's owner worker (tasks bounded per worker,
/// bandwidth shared through a token bucket, transient failures retried with backoff against the owner of the moment, so
/// a worker that leaves has its tasks go to the new owner), then verifies the file's pages (with <c>verify</c>). Each
/// finished task is recorded in the job store, so a resumed job skips it.
/// </summary>
internal sealed class LoadJobRunner(Job job, DoraClient client, JobStore store, WorkerSlots slots, SchedulerOptions options, TimeProvider time, ILogger logger)
{
    private readonly TokenBucket? _bandwidth = job.Spec.Bandwidth is { } rate ? new TokenBucket(rate, time) : null;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var planner = new LoadPlanner(client, EffectiveSpec());
        using var files = new SemaphoreSlim(options.FilesInFlight, options.FilesInFlight);
        var running = new List<Task>();
        job.Planning = true;
        try
        {
            await foreach (PlannedFile file in planner.PlanAsync(cancellationToken).ConfigureAwait(false))
            {
                job.Progress.Planned(file.PlannedBytes, file.Ranges.Count);
                await files.WaitAsync(cancellationToken).ConfigureAwait(false);
                running.Add(RunFileAsync(file, files, cancellationToken));
                if (running.Count >= options.FilesInFlight * 4)
                {
                    running.RemoveAll(t => t.IsCompleted);
                }
            }
        }
        finally
        {
            job.Planning = false;
            await Task.WhenAll(running).ConfigureAwait(false);
        }
    }

    /// <summary>With a bandwidth limit, tasks are cut to a quarter second of it so the limit holds smoothly.</summary>
    private LoadJobSpec EffectiveSpec() => job.Spec.Bandwidth is { } rate
        ? job.Spec with { RangeBytes = Math.Clamp(rate / 4, 64 << 10, job.Spec.RangeBytes) }
        : job.Spec;

    private async Task RunFileAsync(PlannedFile file, SemaphoreSlim files, CancellationToken cancellationToken)
    {
        try
        {
            if (file.Error is not null)
            {
                Fail(file, file.PlannedBytes, file.Error);
                return;
            }

            long done = 0;
            int fetchedTasks = 0;
            try
            {
                await Task.WhenAll(file.Ranges.Select(async range =>
                {
                    if (await RunTaskAsync(file.Path, range, cancellationToken).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref fetchedTasks);
                    }

                    Interlocked.Add(ref done, range.Length);
                })).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                Fail(file, file.PlannedBytes - Interlocked.Read(ref done), Describe(e));
                return;
            }

            // A file none of whose pages had to be fetched was cached already: skipped.
            if (fetchedTasks == 0 && file.Ranges.Count > 0 && job.Spec.SkipIfCached)
            {
                job.Progress.FileSkipped();
            }
            else
            {
                job.Progress.FileLoaded();
            }

            if (job.Spec.Verify)
            {
                await VerifyAsync(file, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Fail(file, 0, Describe(e));
        }
        finally
        {
            files.Release();
        }
    }

    /// <summary>
    /// Has the range's owner load it (with <c>skipIfCached</c> off: fetch it anew even where cached). A range whose
    /// pages were all cached already counts as skipped. Returns whether any page was fetched (or loaded by an earlier
    /// run of the job, found in the job store).
    /// </summary>
    private async Task<bool> RunTaskAsync(string path, ByteRange range, CancellationToken cancellationToken)
    {
        if (store.IsTaskDone(job.Id, path, range.Offset))
        {
            job.Progress.TaskDoneEarlier(range.Length);
            return true;
        }

        // Only bytes that are fetched count against the bandwidth: what turns out cached is given back at once.
        if (_bandwidth is not null)
        {
            await _bandwidth.TakeAsync(range.Length, cancellationToken).ConfigureAwait(false);
        }

        bool refresh = !job.Spec.SkipIfCached;
        LoadReply reply = await OnOwnerAsync(path, (owner, token) => client.LoadAsync(owner, path, range.Offset, range.Length, refresh, token), cancellationToken).ConfigureAwait(false);
        store.MarkTaskDone(job.Id, path, range.Offset, range.Length);
        if (reply.FetchedPages == 0 && reply.Pages > 0 && !refresh)
        {
            _bandwidth?.Return(range.Length);
            job.Progress.TaskSkipped(range.Length);
            return false;
        }

        job.Progress.TaskDone(range.Length);
        return true;
    }

    /// <summary>Checks every page of the file's ranges on their owners; missing or damaged pages fail the file, named.</summary>
    private async Task VerifyAsync(PlannedFile file, CancellationToken cancellationToken)
    {
        var missing = new List<long>();
        long pages = 0;
        foreach (ByteRange range in file.Ranges)
        {
            VerifyReply reply = await OnOwnerAsync(file.Path, (owner, token) => client.VerifyAsync(owner, file.Path, range.Offset, range.Length, token), cancellationToken).ConfigureAwait(false);
            pages += reply.Pages;
            missing.AddRange(reply.MissingPages.Where(p => !missing.Contains(p)));
            job.Progress.Verified(reply.Pages, reply.Pages - reply.IntactPages);
        }

        if (missing.Count > 0)
        {
            Fail(file, 0, $"verify: {missing.Count} of {pages} pages are not cached intact (pages {string.Join(", ", missing.Take(20))}); they were dropped and will be fetched again on the next read or load");
        }
    }

    /// <summary>
    /// Runs a call on the path's owner, retrying transient failures with exponential backoff for up to the retry window;
    /// each attempt asks the ring again, so when the owner leaves the next attempt goes to the new owner.
    /// </summary>
    private async Task<T> OnOwnerAsync<T>(string path, Func<WorkerRecord, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        TimeSpan delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            WorkerRecord owner = client.Cluster.OwnerOf(path);
            SemaphoreSlim slot = slots.For(owner.Id);
            await slot.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await call(owner, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsTransient(e) && time.GetElapsedTime(started) + delay < options.TaskRetryWindow)
            {
                SchedulerLog.TaskRetry(logger, job.Id, path, owner.Id, delay.TotalMilliseconds, e.Message);
            }
            finally
            {
                slot.Release();
            }

            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private static bool IsTransient(Exception error) => error is NoWorkersException || DoraClient.IsTransientFailure(error);

    private void Fail(PlannedFile file, long bytesNotLoaded, string reason)
    {
        job.AddFailure(file.Path, reason);
        long failed = job.Progress.FileFailed(bytesNotLoaded);
        if (failed > job.Spec.MaxFailedFiles && job.Finish(JobState.Failed, time.GetUtcNow(), $"{failed} files failed, more than maxFailedFiles ({job.Spec.MaxFailedFiles}); the first: {job.Failures[0].Path}: {job.Failures[0].Reason}"))
        {
            job.Cancellation.Cancel();
        }
    }

    private static string Describe(Exception error) => error switch
    {
        AggregateException { InnerExceptions.Count: > 0 } many => Describe(many.InnerExceptions[0]),
        DoraException or IOException or Formats.FileLayoutException => error.Message,
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}
