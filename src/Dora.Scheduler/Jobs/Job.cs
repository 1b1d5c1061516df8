namespace Dora.Scheduler.Jobs;

/// <summary>A job as the scheduler holds it: what was asked, where it is, its counters and its failed files.</summary>
public sealed class Job
{
    /// <summary>Failed files kept with their reasons; the count goes on beyond it.</summary>
    public const int MaxFailuresKept = 100;

    private readonly Lock _lock = new();
    private readonly List<FileFailure> _failures = [];

    public Job(string id, LoadJobSpec spec, DateTimeOffset createdAt)
    {
        Id = id;
        Spec = spec;
        CreatedAt = createdAt;
    }

    public string Id { get; }

    public LoadJobSpec Spec { get; }

    public DateTimeOffset CreatedAt { get; }

    public JobState State { get; private set; } = JobState.Queued;

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    /// <summary>Why the job failed or was cancelled, when it did.</summary>
    public string? Error { get; private set; }

    /// <summary>True while the planner is still walking the files (totals can still grow).</summary>
    public bool Planning { get; set; }

    public JobProgress Progress { get; private set; } = new();

    public CancellationTokenSource Cancellation { get; } = new();

    public IReadOnlyList<FileFailure> Failures
    {
        get
        {
            lock (_lock)
            {
                return [.. _failures];
            }
        }
    }

    public void AddFailure(string path, string reason)
    {
        lock (_lock)
        {
            if (_failures.Count < MaxFailuresKept)
            {
                _failures.Add(new FileFailure(path, reason));
            }
        }
    }

    /// <summary>Starts (or resumes) running: counters start over, since the plan is walked again from the beginning.</summary>
    public void Start(DateTimeOffset now)
    {
        lock (_lock)
        {
            State = JobState.Running;
            StartedAt ??= now;
            Progress = new JobProgress();
            _failures.Clear();
            RunStartedAt = now;
        }
    }

    /// <summary>When this run started (after a resume: the resume), for throughput.</summary>
    public DateTimeOffset RunStartedAt { get; private set; }

    /// <summary>Ends the job; the first end wins.</summary>
    public bool Finish(JobState state, DateTimeOffset now, string? error = null)
    {
        lock (_lock)
        {
            if (State.IsFinished())
            {
                return false;
            }

            State = state;
            FinishedAt = now;
            Error = error;
            return true;
        }
    }

    /// <summary>Rebuilds a job read back from the job store.</summary>
    public static Job Restore(JobDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var job = new Job(document.Id, document.Spec, document.CreatedAt)
        {
            State = document.State,
            StartedAt = document.StartedAt,
            FinishedAt = document.FinishedAt,
            Error = document.Error,
        };
        job.Progress = document.Progress.ToProgress();
        job._failures.AddRange(document.Failures);
        return job;
    }
}

/// <summary>A file that could not be loaded, and why.</summary>
public sealed record FileFailure(string Path, string Reason);
