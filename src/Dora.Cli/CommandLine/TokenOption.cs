using System.CommandLine;
using Dora.Core.Security;

namespace Dora.Cli.CommandLine;

/// <summary>
/// Where a command finds the cluster's tokens: <c>--token-file FILE</c> (one per line; several while one is rotated),
/// else <c>$DORA_TOKEN</c>. There is deliberately no option that takes a token itself: a command line is readable by
/// every local user (<c>/proc/PID/cmdline</c>, <c>ps</c>).
/// </summary>
internal static class TokenOption
{
    public const string Name = "--token-file";

    public static void AddTo(Command command, string use) =>
        CliOptions.AddTo(command, CliOptions.Value(Name, "FILE", $"{use}: a file of tokens, one per line (default: ${TokenSet.EnvironmentVariable}, several separated by commas)"));

    /// <summary>The tokens, or null when neither source gives any.</summary>
    /// <exception cref="UsageException">The file named, or the variable set, holds no usable token (the message never quotes one).</exception>
    public static TokenSet? Read(ArgumentReader reader)
    {
        try
        {
            return TokenSet.Resolve(reader.String(Name));
        }
        catch (TokenSourceException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
