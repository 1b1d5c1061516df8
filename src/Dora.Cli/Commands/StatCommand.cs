using System.CommandLine;
using System.Globalization;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;
using Dora.Core.Units;

namespace Dora.Cli.Commands;

/// <summary>
/// <c>dora stat PATH...</c>: each file's status from its owner, with how much of it is cached there. With several paths
/// and <c>--json</c>, one JSON object per path, one after another (the first error stops the command).
/// </summary>
internal static class StatCommand
{
    public static Command Create()
    {
        var command = new Command("stat", "a file's status and how much of it is cached on its owner")
        {
            new Argument<string[]>("PATH") { Description = "the files or directories", Arity = ArgumentArity.OneOrMore },
        };
        CliOptions.AddTo(command, CliOptions.Flag("--json", "machine-readable output"));
        ClientSession.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string[] paths = reader.Paths;
        bool json = reader.Flag("--json");
        var (registry, options) = ClientSession.Read(reader);

        await using var session = await ClientSession.ConnectAsync(registry, options, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < paths.Length; i++)
        {
            if (i > 0 && !json)
            {
                Console.WriteLine();
            }

            await StatOneAsync(session, paths[i], json, cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task StatOneAsync(ConnectedClient session, string path, bool json, CancellationToken cancellationToken)
    {
        StatReply stat = await session.Client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        string owner = session.Client.Cluster.OwnerOf(stat.Path).Id;
        if (json)
        {
            JsonOutput.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("path", stat.Path);
                writer.WriteString("name", stat.Name);
                writer.WriteBoolean("isDirectory", stat.IsDirectory);
                writer.WriteNumber("length", stat.Length);
                writer.WriteString("lastModified", stat.LastModified);
                writer.WriteString("etag", stat.ETag);
                writer.WriteNumber("cachedBytes", stat.CachedBytes);
                writer.WriteString("owner", owner);
                writer.WriteEndObject();
            });
            return;
        }

        double percent = stat.Length == 0 ? 100 : 100.0 * stat.CachedBytes / stat.Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
              path           {stat.Path}
              type           {(stat.IsDirectory ? "directory" : "file")}
              length         {stat.Length} bytes ({ByteSize.Format(stat.Length)})
              last modified  {stat.LastModified:O}
              etag           {stat.ETag ?? "-"}
              cached         {stat.CachedBytes} bytes ({percent:0.#}%) on owner {owner}
            """));
    }
}
