using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;

namespace Dora.Cli.Commands;

/// <summary>
/// <c>dora invalidate PATH [--recursive]</c>: every worker forgets what it cached about the path and looks at it again,
/// so a file changed behind Dora is read anew (its old pages are dropped).
/// </summary>
internal static class InvalidateCommand
{
    public const string Usage = """
        dora invalidate PATH [options]
          --recursive          everything below PATH too (each file is looked at again on its next access)
          --json               machine-readable output

        """ + RegistrySettings.Usage + ClientSession.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        (string path, ArgumentReader reader) = PathArgument.Split(arguments, "invalidate", new HashSet<string> { "--json", "--recursive" });
        bool json = reader.Flag("--json");
        bool recursive = reader.Flag("--recursive");
        var (registry, options) = ClientSession.Read(reader);
        reader.EnsureAllRead();

        await using var session = await ClientSession.ConnectAsync(registry, options, cancellationToken).ConfigureAwait(false);
        InvalidateReply reply = await session.Client.InvalidateAsync(path, recursive, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            JsonOutput.Write(writer => JsonSerializer.Serialize(writer, reply, ProtocolJson.Default.InvalidateReply));
            return 0;
        }

        int workers = session.Client.Cluster.Membership.Workers.Count;
        string now = !reply.Exists ? "it does not exist now" : reply.Version is null ? "it is a directory" : $"now version {reply.Version}";
        Console.WriteLine($"invalidated {reply.Path}{(recursive ? " and everything below it" : string.Empty)} on {workers} workers: {now}; {reply.DroppedPages} pages of an older version dropped");
        return 0;
    }
}
