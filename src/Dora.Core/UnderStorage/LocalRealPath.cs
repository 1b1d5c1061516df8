using Dora.Core.Errors;

namespace Dora.Core.UnderStorage;

/// <summary>
/// Resolves symbolic links the way realpath(3) does, one component at a time, so that a link whose target climbs
/// with ".." is judged by where it really leads and not by a lexical guess.
/// </summary>
internal static class LocalRealPath
{
    // Linux gives up after 40 links (MAXSYMLINKS); so do we, which also ends link loops.
    private const int MaxLinkHops = 40;

    /// <summary>The physical path of <paramref name="absolutePath"/>; components that do not exist are kept as they are.</summary>
    public static string Resolve(string absolutePath, string pathForErrors) => Resolve("/", absolutePath, pathForErrors);

    /// <summary>
    /// The physical path of <paramref name="relativePath"/> below <paramref name="physicalBase"/>, a path already
    /// resolved (so only the components below it are looked at: a mount root is resolved once, not on every read).
    /// </summary>
    public static string Resolve(string physicalBase, string relativePath, string pathForErrors)
    {
        var pending = new Stack<string>();
        PushComponents(pending, relativePath);
        var current = physicalBase;
        var hops = 0;
        while (pending.Count > 0)
        {
            var component = pending.Pop();
            if (component.Length == 0 || component == ".")
            {
                continue;
            }

            if (component == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = Path.Join(current, component);
            var linkTarget = new FileInfo(next).LinkTarget;
            if (linkTarget is null)
            {
                current = next;
                continue;
            }

            if (++hops > MaxLinkHops)
            {
                throw new InvalidPathException(pathForErrors, "too many levels of symbolic links");
            }

            PushComponents(pending, linkTarget);
            if (Path.IsPathRooted(linkTarget))
            {
                current = "/";
            }
        }

        return current;
    }

    private static void PushComponents(Stack<string> pending, string path)
    {
        var parts = path.Split('/');
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
