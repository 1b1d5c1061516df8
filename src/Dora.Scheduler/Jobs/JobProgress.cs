namespace Dora.Scheduler.Jobs;

/// <summary>A job's counters, updated by many tasks at once (so every field is changed atomically).</summary>
public sealed class JobProgress
{
    private long _filesPlanned;
    private long _filesLoaded;
    private long _filesSkipped;
    private long _filesFailed;
    private long _bytesPlanned;
    private long _bytesLoaded;
    private long _bytesSkipped;
    private long _bytesFailed;
    private long _tasksPlanned;
    private long _tasksDone;
    private long _pagesVerified;
    private long _pagesMissing;
    private long _bytesResumed;

    public long FilesPlanned => Volatile.Read(ref _filesPlanned);

    public long FilesLoaded => Volatile.Read(ref _filesLoaded);

    public long FilesSkipped => Volatile.Read(ref _filesSkipped);

    public long FilesFailed => Volatile.Read(ref _filesFailed);

    public long BytesPlanned => Volatile.Read(ref _bytesPlanned);

    public long BytesLoaded => Volatile.Read(ref _bytesLoaded);

    public long BytesSkipped => Volatile.Read(ref _bytesSkipped);

    public long BytesFailed => Volatile.Read(ref _bytesFailed);

    public long TasksPlanned => Volatile.Read(ref _tasksPlanned);

    public long TasksDone => Volatile.Read(ref _tasksDone);

    public long PagesVerified => Volatile.Read(ref _pagesVerified);

    public long PagesMissing => Volatile.Read(ref _pagesMissing);

    /// <summary>Bytes of tasks an earlier run of the job finished (found in the job store after a restart, not loaded again).</summary>
    public long BytesResumed => Volatile.Read(ref _bytesResumed);

    internal static JobProgress From(ProgressCounts c) => new()
    {
        _filesPlanned = c.FilesPlanned, _filesLoaded = c.FilesLoaded, _filesSkipped = c.FilesSkipped, _filesFailed = c.FilesFailed,
        _bytesPlanned = c.BytesPlanned, _bytesLoaded = c.BytesLoaded, _bytesSkipped = c.BytesSkipped, _bytesFailed = c.BytesFailed,
        _tasksPlanned = c.TasksPlanned, _tasksDone = c.TasksDone, _pagesVerified = c.PagesVerified, _pagesMissing = c.PagesMissing,
        _bytesResumed = c.BytesResumed,
    };

    public void Planned(long bytes, int tasks)
    {
        Interlocked.Increment(ref _filesPlanned);
        Interlocked.Add(ref _bytesPlanned, bytes);
        Interlocked.Add(ref _tasksPlanned, tasks);
    }

    public void TaskDone(long bytes)
    {
        Interlocked.Increment(ref _tasksDone);
        Interlocked.Add(ref _bytesLoaded, bytes);
    }

    /// <summary>A task an earlier run finished: counted as loaded, and as resumed.</summary>
    public void TaskDoneEarlier(long bytes)
    {
        TaskDone(bytes);
        Interlocked.Add(ref _bytesResumed, bytes);
    }

    public void FileLoaded() => Interlocked.Increment(ref _filesLoaded);

    /// <summary>A task whose pages were all cached already.</summary>
    public void TaskSkipped(long bytes)
    {
        Interlocked.Increment(ref _tasksDone);
        Interlocked.Add(ref _bytesSkipped, bytes);
    }

    public void FileSkipped() => Interlocked.Increment(ref _filesSkipped);

    /// <returns>The number of files failed so far, this one included.</returns>
    public long FileFailed(long bytesNotLoaded)
    {
        Interlocked.Add(ref _bytesFailed, bytesNotLoaded);
        return Interlocked.Increment(ref _filesFailed);
    }

    public void Verified(long pages, long missing)
    {
        Interlocked.Add(ref _pagesVerified, pages);
        Interlocked.Add(ref _pagesMissing, missing);
    }
}

/// <summary>A snapshot of a job's counters, as the API shows them and the job store keeps them.</summary>
public sealed record ProgressCounts(
    long FilesPlanned, long FilesLoaded, long FilesSkipped, long FilesFailed,
    long BytesPlanned, long BytesLoaded, long BytesSkipped, long BytesFailed,
    long TasksPlanned, long TasksDone, long PagesVerified, long PagesMissing, long BytesResumed)
{
    public static ProgressCounts Of(JobProgress p)
    {
        ArgumentNullException.ThrowIfNull(p);
        return new(p.FilesPlanned, p.FilesLoaded, p.FilesSkipped, p.FilesFailed, p.BytesPlanned, p.BytesLoaded, p.BytesSkipped, p.BytesFailed,
            p.TasksPlanned, p.TasksDone, p.PagesVerified, p.PagesMissing, p.BytesResumed);
    }

    /// <summary>Counters that start from this snapshot (a finished job read back from the store).</summary>
    public JobProgress ToProgress() => JobProgress.From(this);
}
