namespace Dora.Cli.CommandLine;

/// <summary>Commands of the form <c>dora VERB PATH [options]</c>: the path is the one argument not starting with <c>--</c>.</summary>
internal static class PathArgument
{
    public static (string Path, ArgumentReader Options) Split(IReadOnlyList<string> arguments, string command, IReadOnlySet<string> flags)
    {
        if (arguments.Count == 0 || arguments[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException($"dora {command} needs a path, e.g. dora {command} /data/part-0.parquet");
        }

        return (arguments[0], new ArgumentReader([.. arguments.Skip(1)], flags));
    }
}
