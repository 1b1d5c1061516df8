using System.Net;

namespace Dora.Scheduler;

/// <summary>How a scheduler runs: where it listens and keeps its state, and its limits.</summary>
public sealed record SchedulerOptions
{
    public const int DefaultPort = 8818;

    /// <summary>The directory of the job store (RocksDB).</summary>
    public required string Directory { get; init; }

    public IPAddress Bind { get; init; } = IPAddress.Loopback;

    /// <summary>The REST port; 0 picks a free one.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The host name advertised in the registry (defaults to the bind address).</summary>
    public string? AdvertisedHost { get; init; }

    /// <summary>Jobs running at once; more wait queued.</summary>
    public int MaxRunningJobs { get; init; } = 4;

    /// <summary>
    /// Jobs kept (queued, running and finished): 10,000. A new job beyond it removes the oldest finished job; only when
    /// every kept job is unfinished is it refused (429).
    /// </summary>
    public int MaxJobs { get; init; } = 10_000;

    /// <summary>
    /// Unfinished jobs (queued or running) one client address may have: 100. More from it are refused (429) until some
    /// finish, so one client cannot fill the scheduler for everyone.
    /// </summary>
    public int MaxUnfinishedJobsPerClient { get; init; } = 100;

    /// <summary>Load tasks in flight on one worker, across all jobs.</summary>
    public int TasksPerWorker { get; init; } = 8;

    /// <summary>Files of one job being worked on at once.</summary>
    public int FilesInFlight { get; init; } = 256;

    /// <summary>How long a finished job is kept before it is removed.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How long a task keeps retrying transient failures (a worker restarting, leaving, or busy).</summary>
    public TimeSpan TaskRetryWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The tokens of the REST API: when set, every request but <c>/healthz</c> (and <c>/metrics</c> with
    /// <see cref="OpenMetrics"/>) needs <c>Authorization: Bearer</c> with one of them. Null (the default): open.
    /// </summary>
    public Dora.Core.Security.TokenSet? Tokens { get; init; }

    /// <summary>Serve <c>/metrics</c> without a token even when <see cref="Tokens"/> are set (false by default).</summary>
    public bool OpenMetrics { get; init; }

    /// <summary>The worker page stream token, when the workers require one.</summary>
    public string? WorkerToken { get; init; }

    /// <summary>TLS (and mutual TLS) on the REST port, advertised as an <c>https://</c> URL; null (the default): plaintext.</summary>
    public Dora.Core.Security.ServerTls? Tls { get; init; }

    /// <summary>How the scheduler checks the workers it loads through; null: the system store, plaintext workers allowed.</summary>
    public Dora.Core.Security.ClientTls? WorkerTls { get; init; }

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("The scheduler needs a directory for its job store.");
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Scheduler port {Port} is outside 0..65535.");
        }

        if (MaxUnfinishedJobsPerClient < 1)
        {
            throw new ArgumentException($"SchedulerOptions.MaxUnfinishedJobsPerClient must be at least 1 (was {MaxUnfinishedJobsPerClient}).");
        }

        if (MaxRunningJobs < 1 || MaxJobs < MaxRunningJobs || TasksPerWorker < 1 || FilesInFlight < 1)
        {
            throw new ArgumentException("Scheduler limits must be positive (and max jobs at least the running jobs).");
        }
    }
}
