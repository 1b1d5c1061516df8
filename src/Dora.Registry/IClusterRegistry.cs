namespace Dora.Registry;

/// <summary>
/// Cluster membership: where workers register and where every process learns who is in the cluster. Implemented over
/// etcd (production), a static file, and in process (one-process clusters and tests).
/// </summary>
public interface IClusterRegistry : IAsyncDisposable
{
    /// <summary>Where this registry lives, for messages: <c>etcd://127.0.0.1:2379 (cluster 'default')</c>.</summary>
    string Description { get; }

    /// <summary>Reads the current membership once.</summary>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached.</exception>
    Task<Membership> ReadAsync(CancellationToken cancellationToken);

    /// <summary>Reads the membership and keeps following it until the watch is disposed.</summary>
    /// <exception cref="RegistryUnavailableException">The first read failed, so there is no view to keep.</exception>
    Task<IMembershipWatch> WatchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Registers a worker and keeps it registered until the returned registration is disposed, which deregisters it
    /// at once.
    /// </summary>
    /// <exception cref="DuplicateWorkerIdException">A live worker already holds this id.</exception>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached.</exception>
    Task<IWorkerRegistration> RegisterAsync(WorkerRecord worker, RegistrationOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// Advertises the cluster's scheduler until the returned handle is disposed (etcd: on a lease kept alive, so a
    /// scheduler that dies disappears after the lease TTL).
    /// </summary>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached.</exception>
    Task<IAsyncDisposable> AdvertiseSchedulerAsync(SchedulerRecord scheduler, CancellationToken cancellationToken);

    /// <summary>The scheduler advertised in the cluster, or null when there is none.</summary>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached.</exception>
    Task<SchedulerRecord?> ReadSchedulerAsync(CancellationToken cancellationToken);
}

/// <summary>A live, self-updating membership view.</summary>
public interface IMembershipWatch : IAsyncDisposable
{
    /// <summary>The latest membership seen. While the registry is unreachable it stays the last one seen.</summary>
    Membership Current { get; }

    /// <summary>False while the registry cannot be reached (the view may then be stale).</summary>
    bool IsConnected { get; }

    /// <summary>Raised (on a background thread) after <see cref="Current"/> or <see cref="IsConnected"/> changed.</summary>
    event EventHandler? Changed;

    /// <summary>True when the worker left the membership on purpose (it said it was leaving), not by a lost lease.</summary>
    bool LeftGracefully(string id);
}

/// <summary>A worker's registration; dispose to deregister.</summary>
public interface IWorkerRegistration : IAsyncDisposable
{
    /// <summary>The registered record.</summary>
    WorkerRecord Worker { get; }

    /// <summary>
    /// An opaque token naming this registration (the etcd lease id), to pass as
    /// <see cref="RegistrationOptions.PreviousSession"/> after a restart; null where the registry has none.
    /// </summary>
    string? Session { get; }

    /// <summary>
    /// Completes when the registration ends: normally on dispose; faulted with <see cref="DuplicateWorkerIdException"/>
    /// when another live worker takes the id, after which this worker must stop serving.
    /// </summary>
    Task Completion { get; }

    /// <summary>Raised with the new session token when the registration had to be renewed (a lost etcd lease).</summary>
    event EventHandler<string>? SessionChanged;

    /// <summary>
    /// Replaces the registered record (same id) with <paramref name="worker"/>, e.g. when the worker's health changes.
    /// A registry whose records cannot be written (a static file) keeps the old one.
    /// </summary>
    Task UpdateAsync(WorkerRecord worker, CancellationToken cancellationToken);
}

/// <summary>How to register.</summary>
public sealed record RegistrationOptions
{
    /// <summary>Defaults: no previous session.</summary>
    public static RegistrationOptions Default { get; } = new();

    /// <summary>
    /// The <see cref="IWorkerRegistration.Session"/> this worker held before it restarted. An entry still held by that
    /// session is the worker's own previous life and is taken over at once instead of waiting for it to expire.
    /// </summary>
    public string? PreviousSession { get; init; }
}
