using Dora.Core.Protocol;

namespace Dora.Worker.Reading;

/// <summary>The status and health answers every endpoint gives (page stream STAT/HEALTH, Flight stat/health actions).</summary>
public static class StatusReplies
{
    /// <summary>A file's or directory's status with the bytes of it cached on this worker.</summary>
    public static StatReply Stat(FileInfoResult info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var status = info.Status;
        return new StatReply(info.Path.Value, info.Path.Name, status.IsDirectory, status.Length, status.LastModified, status.ETag, info.CachedBytes);
    }

    /// <summary>This worker's health: <c>degraded</c>, with the reasons, while a cache directory is bypassed after a failure.</summary>
    public static HealthReply Health(StorageEngine engine, string workerId)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var pages = engine.Pages;
        var reasons = pages.DegradedReasons;
        return new HealthReply(workerId, reasons.Count == 0 ? "ok" : "degraded", pages.UsedBytes, pages.CapacityBytes,
            pages.PageCount, pages.UnavailableDirectories, engine.Metrics.StreamConnections, reasons);
    }
}
