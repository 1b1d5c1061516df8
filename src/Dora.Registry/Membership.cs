using Dora.Core.Hashing;

namespace Dora.Registry;

/// <summary>One immutable view of the cluster's workers, sorted by id.</summary>
public sealed class Membership
{
    /// <summary>A view with no worker, before anything was read.</summary>
    public static Membership Empty { get; } = new([], revision: 0);

    /// <summary>Creates a view; <paramref name="workers"/> may be in any order and must have distinct ids.</summary>
    public Membership(IEnumerable<WorkerRecord> workers, long revision)
    {
        ArgumentNullException.ThrowIfNull(workers);
        var sorted = new List<WorkerRecord>(workers);
        sorted.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        Workers = sorted;
        Revision = revision;
    }

    /// <summary>The workers, sorted by id (ordinal).</summary>
    public IReadOnlyList<WorkerRecord> Workers { get; }

    /// <summary>The registry revision this view reflects (etcd's store revision; a counter elsewhere).</summary>
    public long Revision { get; }

    /// <summary>The worker with this id, or null.</summary>
    public WorkerRecord? Find(string id)
    {
        foreach (WorkerRecord worker in Workers)
        {
            if (worker.Id == id)
            {
                return worker;
            }
        }

        return null;
    }

    /// <summary>
    /// The ring of these workers. With <paramref name="capacityWeights"/> each weighs its advertised cache bytes
    /// (a worker advertising none weighs as the smallest that does, or 1 when none does).
    /// </summary>
    public HashRing ToRing(IPlacementPolicy policy, bool capacityWeights)
    {
        long smallest = 0;
        if (capacityWeights)
        {
            foreach (WorkerRecord worker in Workers)
            {
                if (worker.CapacityBytes > 0 && (smallest == 0 || worker.CapacityBytes < smallest))
                {
                    smallest = worker.CapacityBytes;
                }
            }
        }

        var members = new RingMember[Workers.Count];
        for (int i = 0; i < members.Length; i++)
        {
            long capacity = Workers[i].CapacityBytes > 0 ? Workers[i].CapacityBytes : smallest;
            members[i] = new RingMember(Workers[i].Id, capacityWeights && capacity > 0 ? capacity : 1.0);
        }

        return HashRing.Build(members, policy);
    }

    /// <summary>True when both views hold the same records.</summary>
    public bool SameWorkersAs(Membership other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Workers.Count != Workers.Count)
        {
            return false;
        }

        for (int i = 0; i < Workers.Count; i++)
        {
            if (Workers[i] != other.Workers[i])
            {
                return false;
            }
        }

        return true;
    }
}
