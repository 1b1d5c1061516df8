using System.CommandLine;
using System.Globalization;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;
using Dora.Core.Units;

namespace Dora.Cli.Commands;

/// <summary><c>dora stat PATH</c>: a file's status from its owner, with how much of it is cached there.</summary>
internal static class StatCommand
{
    public static Command Create()
    {
        var command = new Command("stat", "a file's status and how much of it is cached on its owner") { CliOptions.Path("the file or directory") };
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
            return 0;
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
        return 0;
    }
}
