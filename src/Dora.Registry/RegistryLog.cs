using Microsoft.Extensions.Logging;

namespace Dora.Registry;

/// <summary>The registry's log messages.</summary>
internal static partial class RegistryLog
{
    [LoggerMessage(1, LogLevel.Warning, "Skipping malformed worker entry {Key} in {Registry}: {Reason}")]
    public static partial void MalformedEntry(ILogger logger, string key, string registry, string reason);

    [LoggerMessage(2, LogLevel.Warning, "{Registry} is unreachable ({Reason}); keeping the last membership seen: {Workers} workers at revision {Revision}")]
    public static partial void Unreachable(ILogger logger, string registry, string reason, int workers, long revision);

    [LoggerMessage(3, LogLevel.Information, "{Registry} is reachable again; following membership from revision {Revision}")]
    public static partial void Reconnected(ILogger logger, string registry, long revision);

    [LoggerMessage(4, LogLevel.Information, "Registered worker {WorkerId} in {Registry} (lease {Lease:x}, TTL {TtlSeconds} s)")]
    public static partial void Registered(ILogger logger, string workerId, string registry, long lease, long ttlSeconds);

    [LoggerMessage(5, LogLevel.Warning, "Worker {WorkerId}: lease {Lease:x} was lost ({Reason}); registering again")]
    public static partial void LeaseLost(ILogger logger, string workerId, long lease, string reason);

    [LoggerMessage(6, LogLevel.Information, "Worker {WorkerId}: waiting up to {Seconds} s for the entry of an earlier registration (lease {Lease:x}) to expire")]
    public static partial void WaitingForOldLease(ILogger logger, string workerId, long seconds, long lease);

    [LoggerMessage(7, LogLevel.Information, "Worker {WorkerId}: taking over the entry of its own previous run (lease {Lease:x})")]
    public static partial void TakingOver(ILogger logger, string workerId, long lease);

    [LoggerMessage(8, LogLevel.Warning, "Watch of {Registry} fell behind compaction at revision {Revision}; reading the membership again")]
    public static partial void Compacted(ILogger logger, string registry, long revision);

    [LoggerMessage(9, LogLevel.Warning, "Membership from {Registry} became empty (was {Workers} workers); not trusted until confirmed in {Seconds} s")]
    public static partial void EmptyViewSuspected(ILogger logger, string registry, int workers, double seconds);

    [LoggerMessage(10, LogLevel.Warning, "Membership from {Registry} is confirmed empty")]
    public static partial void EmptyViewConfirmed(ILogger logger, string registry);

    [LoggerMessage(11, LogLevel.Information, "Membership of {Registry}: {Workers} workers at revision {Revision}")]
    public static partial void MembershipChanged(ILogger logger, string registry, int workers, long revision);

    [LoggerMessage(12, LogLevel.Warning, "Worker {WorkerId}: keeping the registration alive failed ({Reason}); retrying")]
    public static partial void KeepAliveFailed(ILogger logger, string workerId, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Worker {WorkerId}: its entry disappeared from {Registry} while the lease lived; writing it again")]
    public static partial void EntryRewritten(ILogger logger, string workerId, string registry);

    [LoggerMessage(14, LogLevel.Error, "Worker {WorkerId}: another live worker took the id; this worker is no longer registered")]
    public static partial void IdTaken(ILogger logger, string workerId);

    [LoggerMessage(15, LogLevel.Information, "{Registry} is read-only: the scheduler at {Url} is not advertised in it; list it there under \"scheduler\" for client commands to find it")]
    public static partial void StaticScheduler(ILogger logger, string registry, string url);

    [LoggerMessage(16, LogLevel.Warning, "Keeping the scheduler advertised in etcd failed ({Reason}); retrying")]
    public static partial void SchedulerAdvertFailed(ILogger logger, string reason);

    [LoggerMessage(17, LogLevel.Warning, "Worker {WorkerId} vanished from {Registry} without leaving (its lease expired); it stays on the ring for {GraceSeconds} s in case it re-registers")]
    public static partial void WorkerVanished(ILogger logger, string workerId, string registry, double graceSeconds);
}
