using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;

namespace Dora.Cli.Commands;

/// <summary><c>dora evict PATH</c>: every worker drops the cached pages of the file's current version.</summary>
internal static class EvictCommand
{
    public const string Usage = """
        dora evict PATH [options]
          --json               machine-readable output

        """ + RegistrySettings.Usage + ClientSession.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        (string path, ArgumentReader reader) = PathArgument.Split(arguments, "evict", new HashSet<string> { "--json" });
        bool json = reader.Flag("--json");
        var (registry, options) = ClientSession.Read(reader);
        reader.EnsureAllRead();

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
