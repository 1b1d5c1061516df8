using Dora.Core.Errors;
using Dora.Core.Paths;

namespace Dora.Core.Mounts;

/// <summary>
/// Maps Dora path prefixes to under storages; the longest matching prefix wins. Immutable once built, so lookups
/// need no locks.
/// </summary>
public sealed class MountTable : IDisposable
{
    // Longest prefix first, so the first match is the winner.
    private readonly Mount[] _mounts;

    public MountTable(IEnumerable<Mount> mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        var list = mounts.ToList();
        var duplicate = list.GroupBy(m => m.Prefix).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The mount point '{duplicate.Key}' is given more than once.", nameof(mounts));
        }

        _mounts = [.. list.OrderByDescending(m => m.Prefix.Value.Length)];
    }

    public IReadOnlyList<Mount> Mounts => _mounts;

    /// <summary>One line per mount, in prefix order: what workers advertise and compare, so they serve the same table.</summary>
    public IReadOnlyList<string> Describe() => [.. _mounts.OrderBy(m => m.Prefix.Value, StringComparer.Ordinal).Select(m => m.ToString())];

    /// <summary>The mount that serves <paramref name="path"/> and the path relative to its storage.</summary>
    /// <exception cref="DoraFileNotFoundException">No mount covers the path.</exception>
    public ResolvedPath Resolve(DoraPath path)
    {
        foreach (var mount in _mounts)
        {
            if (path.IsUnder(mount.Prefix))
            {
                return new ResolvedPath(path, mount, path.RelativeTo(mount.Prefix));
            }
        }

        throw new DoraFileNotFoundException(path.Value);
    }

    public void Dispose()
    {
        foreach (var mount in _mounts)
        {
            mount.Storage.Dispose();
        }
    }
}
