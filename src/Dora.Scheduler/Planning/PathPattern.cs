using System.Text.RegularExpressions;
using Dora.Core.Paths;

namespace Dora.Scheduler.Planning;

/// <summary>
/// A job's path: a plain Dora path, or one with wildcards, which splits into the directory to walk (the segments
/// before the first wildcard) and the pattern every file's full path must match.
/// </summary>
internal sealed record PathPattern(DoraPath Root, Regex? Pattern)
{
    /// <exception cref="Dora.Core.Errors.InvalidPathException">The path (with its wildcards taken as plain characters) is not a valid Dora path.</exception>
    public static PathPattern Parse(string path)
    {
        DoraPath parsed = DoraPath.Parse(path);
        if (!Glob.HasWildcards(parsed.Value))
        {
            return new PathPattern(parsed, null);
        }

        string[] segments = parsed.Value.Split('/', StringSplitOptions.RemoveEmptyEntries);
        int plain = Array.FindIndex(segments, Glob.HasWildcards);
        DoraPath root = plain == 0 ? DoraPath.Root : DoraPath.Parse("/" + string.Join('/', segments[..plain]));
        return new PathPattern(root, Glob.Compile(parsed.Value));
    }
}
