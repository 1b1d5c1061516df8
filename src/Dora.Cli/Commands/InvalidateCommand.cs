using System.CommandLine;
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
    public static Command Create()
    {
        var command = new Command("invalidate", "make every worker look at a path (or everything below it) again in the under storage") { CliOptions.Path("the file or directory") };
        CliOptions.AddTo(
            command,
            CliOptions.Flag("--recursive", "everything below PATH too (each file is looked at again on its next access)"),
            CliOptions.Flag("--json", "machine-readable output"));
        ClientSession.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string path = reader.Path;
        bool json = reader.Flag("--json");
        bool recursive = reader.Flag("--recursive");
        var (registry, options) = ClientSession.Read(reader);

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
