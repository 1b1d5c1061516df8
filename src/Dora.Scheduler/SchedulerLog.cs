using Microsoft.Extensions.Logging;

namespace Dora.Scheduler;

internal static partial class SchedulerLog
{
    [LoggerMessage(1, LogLevel.Debug, "Job {JobId}: retrying '{Path}' on worker {WorkerId} in {DelayMs} ms: {Reason}")]
    public static partial void TaskRetry(ILogger logger, string jobId, string path, string workerId, double delayMs, string reason);

    [LoggerMessage(2, LogLevel.Information, "Job {JobId} {State}: {Files} files, {Bytes} bytes loaded, {Skipped} skipped, {Failed} failed")]
    public static partial void JobEnded(ILogger logger, string jobId, string state, long files, long bytes, long skipped, long failed);

    [LoggerMessage(3, LogLevel.Error, "Job {JobId} failed")]
    public static partial void JobCrashed(ILogger logger, string jobId, Exception error);

    [LoggerMessage(4, LogLevel.Information, "Resuming job {JobId} ({State} when the scheduler stopped)")]
    public static partial void Resuming(ILogger logger, string jobId, string state);
}
