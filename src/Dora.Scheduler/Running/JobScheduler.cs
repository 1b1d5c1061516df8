using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dora.Client;
using Dora.Scheduler.Jobs;
using Microsoft.Extensions.Logging;

namespace Dora.Scheduler.Running;

/// <summary>
/// Holds the jobs: accepts new ones, runs at most <see cref="SchedulerOptions.MaxRunningJobs"/> at once (the rest wait
/// queued), cancels on request, persists every change (and progress every second) in the job store, resumes queued
/// and running jobs after a restart, and removes finished jobs after the retention period.
/// </summary>
public sealed class JobScheduler : IAsyncDisposable
{
    private readonly DoraClient _client;
    private readonly JobStore _store;
    private readonly SchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>Who submitted each job since start-up (client address), for the per-client limit.</summary>
    private readonly ConcurrentDictionary<string, string> _submitters = new(StringComparer.Ordinal);
    private readonly Lock _submitting = new();
    private readonly SemaphoreSlim _slots;
    private readonly WorkerSlots _workerSlots;
    private readonly CancellationTokenSource _stopping = new();
    private Task _background = Task.CompletedTask;

    public JobScheduler(DoraClient client, JobStore store, SchedulerOptions options, TimeProvider time, ILogger logger)
    {
        _client = client;
        _store = store;
        _options = options;
        _time = time;
        _logger = logger;
        _slots = new SemaphoreSlim(options.MaxRunningJobs, options.MaxRunningJobs);
        _workerSlots = new WorkerSlots(options.TasksPerWorker);
    }

    /// <summary>Reads the stored jobs, resumes the unfinished ones, and starts the progress saver and retention sweep.</summary>
    public void Start()
    {
        foreach (JobDocument document in _store.LoadAll())
        {
            Job job = Job.Restore(document);
            _jobs[job.Id] = job;
            if (!job.State.IsFinished())
            {
                SchedulerLog.Resuming(_logger, job.Id, job.State.Name());
                Launch(job);
            }
        }

        _background = MaintainAsync(_stopping.Token);
    }

    /// <summary>
    /// Accepts a job from <paramref name="client"/> (its address, for the per-client limit). When the scheduler holds
    /// <see cref="SchedulerOptions.MaxJobs"/> jobs, the oldest finished one is removed to make room.
    /// </summary>
    /// <exception cref="JobSpecException">The spec is invalid.</exception>
    /// <exception cref="InvalidOperationException">The client, or the scheduler, has as many unfinished jobs as it may.</exception>
    public JobDocument Submit(LoadJobSpec spec, string client = "")
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        Job job;
        lock (_submitting)
        {
            int mine = _submitters.Count(s => s.Value == client && _jobs.TryGetValue(s.Key, out Job? j) && !j.State.IsFinished());
            if (mine >= _options.MaxUnfinishedJobsPerClient)
            {
                throw new InvalidOperationException($"this client has {mine} unfinished jobs, the most one client may have; wait for some to finish, or cancel or delete them");
            }

            if (_jobs.Count >= _options.MaxJobs && !RemoveOldestFinished())
            {
                throw new InvalidOperationException($"the scheduler holds {_jobs.Count} unfinished jobs, its limit; wait for some to finish, or cancel or delete them");
            }

            job = new Job(NewId(), spec, _time.GetUtcNow());
            _jobs[job.Id] = job;
            _submitters[job.Id] = client;
        }

        Save(job);
        Launch(job);
        return JobDocument.Of(job, _time.GetUtcNow());
    }

    /// <summary>Removes the finished job that finished first; false when every job is unfinished.</summary>
    private bool RemoveOldestFinished()
    {
        Job? oldest = _jobs.Values.Where(j => j.State.IsFinished()).MinBy(j => j.FinishedAt);
        if (oldest is null)
        {
            return false;
        }

        Forget(oldest.Id);
        return true;
    }

    /// <summary>
    /// Deletes a job: cancels it when it is unfinished, then removes it from the scheduler and its store. Null when
    /// there is no such job.
    /// </summary>
    public async Task<JobDocument?> DeleteAsync(string id)
    {
        JobDocument? cancelled = await CancelAsync(id).ConfigureAwait(false);
        if (cancelled is not null)
        {
            Forget(id);
        }

        return cancelled;
    }

    private void Forget(string id)
    {
        _store.Delete(id);
        _jobs.TryRemove(id, out _);
        _submitters.TryRemove(id, out _);
    }

    public IReadOnlyList<JobDocument> List()
    {
        DateTimeOffset now = _time.GetUtcNow();
        return [.. _jobs.Values.OrderBy(j => j.CreatedAt).Select(j => JobDocument.Of(j, now))];
    }

    public JobDocument? Get(string id) => _jobs.TryGetValue(id, out Job? job) ? JobDocument.Of(job, _time.GetUtcNow()) : null;

    /// <summary>Cancels a queued or running job (a finished one is left as it is); null when there is no such job.</summary>
    public async Task<JobDocument?> CancelAsync(string id)
    {
        if (!_jobs.TryGetValue(id, out Job? job))
        {
            return null;
        }

        if (job.Finish(JobState.Cancelled, _time.GetUtcNow(), "cancelled on request"))
        {
            await job.Cancellation.CancelAsync().ConfigureAwait(false);
            if (_running.TryGetValue(id, out Task? running))
            {
                await running.ConfigureAwait(false);
            }

            Save(job);
        }

        return JobDocument.Of(job, _time.GetUtcNow());
    }

    /// <summary>Counts of jobs by state, for /metrics.</summary>
    public IReadOnlyDictionary<JobState, int> CountByState() =>
        Enum.GetValues<JobState>().ToDictionary(s => s, s => _jobs.Values.Count(j => j.State == s));

    private void Launch(Job job) => _running[job.Id] = RunAsync(job);

    private async Task RunAsync(Job job)
    {
        CancellationToken cancellation = job.Cancellation.Token;
        bool holdsSlot = false;
        try
        {
            await Task.Yield();
            await _slots.WaitAsync(cancellation).ConfigureAwait(false);
            holdsSlot = true;
            job.Start(_time.GetUtcNow());
            Save(job);
            await new LoadJobRunner(job, _client, _store, _workerSlots, _options, _time, _logger).RunAsync(cancellation).ConfigureAwait(false);
            job.Finish(JobState.Succeeded, _time.GetUtcNow());
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Cancelled on request, failed past its failure threshold, or the scheduler is stopping (then it resumes).
        }
        catch (Exception e)
        {
            SchedulerLog.JobCrashed(_logger, job.Id, e);
            job.Finish(JobState.Failed, _time.GetUtcNow(), e.Message);
        }
        finally
        {
            if (holdsSlot)
            {
                _slots.Release();
            }

            if (!_stopping.IsCancellationRequested || job.State.IsFinished())
            {
                Save(job);
            }

            if (job.State.IsFinished())
            {
                JobProgress p = job.Progress;
                SchedulerLog.JobEnded(_logger, job.Id, job.State.Name(), p.FilesLoaded, p.BytesLoaded, p.FilesSkipped, p.FilesFailed);
            }

            _running.TryRemove(job.Id, out _);
        }
    }

    /// <summary>Every second: saves running jobs' progress; every minute: removes jobs finished longer ago than the retention.</summary>
    private async Task MaintainAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        int ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (Job job in _jobs.Values.Where(j => j.State == JobState.Running))
                {
                    Save(job);
                }

                if (++ticks % 60 == 0)
                {
                    RemoveExpired();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Removes finished jobs older than the retention period (also run at start-up through <see cref="Start"/>'s first minute).</summary>
    public int RemoveExpired()
    {
        DateTimeOffset cutoff = _time.GetUtcNow() - _options.Retention;
        int removed = 0;
        foreach (Job job in _jobs.Values.Where(j => j.State.IsFinished() && j.FinishedAt < cutoff).ToList())
        {
            Forget(job.Id);
            removed++;
        }

        return removed;
    }

    private void Save(Job job) => _store.Save(JobDocument.Of(job, _time.GetUtcNow()));

    /// <summary>Job ids sort by creation time: <c>j-&lt;unix ms hex&gt;-&lt;random&gt;</c>.</summary>
    private string NewId() => $"j-{_time.GetUtcNow().ToUnixTimeMilliseconds():x}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>Stops the running jobs where they are (they resume on the next start) and saves their progress.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (Job job in _jobs.Values.Where(j => !j.State.IsFinished()))
        {
            Save(job);
            await job.Cancellation.CancelAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_running.Values).ConfigureAwait(false);
        await _background.ConfigureAwait(false);
        _stopping.Dispose();
        _slots.Dispose();
    }
}
