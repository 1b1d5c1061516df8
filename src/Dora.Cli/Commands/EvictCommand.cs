using System.CommandLine;
using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;

namespace Dora.Cli.Commands;

/// <summary><c>dora evict PATH</c>: every worker drops the cached pages of the file's current version.</summary>
internal static class EvictCommand
{
    public static Command Create()
    {
        var command = new Command("evict", "drop a file's cached pages on every worker") { CliOptions.Path("the file") };
        CliOptions.AddTo(command, CliOptions.Flag("--json", "machine-readable output"));
        ClientSession.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string path = reader.Path;
        bool json = reader.Flag("--json");
        var (registry, options) = ClientSession.Read(reader);

        await using var session = await ClientSession.ConnectAsync(registry, options, cancellationToken).ConfigureAwait(false);
        EvictReply reply = await session.Client.EvictAsync(path, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            JsonOutput.Write(writer => JsonSerializer.Serialize(writer, reply, ProtocolJson.Default.EvictReply));
            return 0;
        }

        Console.WriteLine($"evicted {reply.Path}: {reply.DroppedPages} cached pages dropped");
        return 0;
    }
}
