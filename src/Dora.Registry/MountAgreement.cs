using Dora.Core.Errors;

namespace Dora.Registry;

/// <summary>Every worker and client of a cluster must mount the same stores at the same prefixes; this checks it.</summary>
public static class MountAgreement
{
    /// <summary>Throws when a member of <paramref name="membership"/> (other than <paramref name="self"/>) advertises another mount table.</summary>
    /// <param name="ours">This process's table, as <c>MountTable.Describe()</c> gives it.</param>
    /// <param name="membership">The cluster's members.</param>
    /// <param name="self">Who is checking, for the message ("worker w-1", "this client").</param>
    /// <param name="selfId">The checking worker's own id (its own old record is not compared), or null.</param>
    public static void Check(IReadOnlyList<string> ours, Membership membership, string self, string? selfId = null)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(membership);
        foreach (WorkerRecord worker in membership.Workers)
        {
            if (worker.Mounts is { } theirs && worker.Id != selfId && !theirs.SequenceEqual(ours, StringComparer.Ordinal))
            {
                throw new MountTableMismatchException(
                    $"The mount table of {self} differs from worker {worker.Id}'s (at {worker.Host}): {self} mounts [{string.Join("; ", ours)}], " +
                    $"{worker.Id} mounts [{string.Join("; ", theirs)}]. Every worker and client of a cluster must mount the same stores at the same prefixes with the same consistency.");
            }
        }
    }
}
