using System.Collections.Concurrent;

namespace Dora.Scheduler.Running;

/// <summary>Bounds the load tasks in flight on each worker, across every job, so no worker is flooded.</summary>
internal sealed class WorkerSlots(int perWorker)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _slots = new(StringComparer.Ordinal);

    public SemaphoreSlim For(string workerId) => _slots.GetOrAdd(workerId, _ => new SemaphoreSlim(perWorker, perWorker));
}
