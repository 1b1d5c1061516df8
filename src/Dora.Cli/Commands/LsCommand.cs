using System.CommandLine;
using System.Globalization;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;
using Dora.Core.Units;

namespace Dora.Cli.Commands;

/// <summary><c>dora ls PATH</c>: a directory's entries, from its owner worker.</summary>
internal static class LsCommand
{
    public static Command Create()
    {
        var command = new Command("ls", "list a directory") { CliOptions.Path("the directory, e.g. /trips") };
        CliOptions.AddTo(command, CliOptions.Value("--limit", "N", "list at most N entries (default: all)"), CliOptions.Flag("--json", "machine-readable output"));
        ClientSession.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string path = reader.Path;
        bool json = reader.Flag("--json");
        int limit = reader.Int("--limit", int.MaxValue, 1, int.MaxValue);
        var (registry, options) = ClientSession.Read(reader);

        await using var session = await ClientSession.ConnectAsync(registry, options, cancellationToken).ConfigureAwait(false);
        var entries = new List<ListEntry>();
        await foreach (ListEntry entry in session.Client.ListAllAsync(path, cancellationToken).ConfigureAwait(false))
        {
            entries.Add(entry);
            if (entries.Count >= limit)
            {
                break;
            }
        }

        if (json)
        {
            JsonOutput.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("path", path);
                writer.WriteStartArray("entries");
                foreach (ListEntry entry in entries)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", entry.Name);
                    writer.WriteBoolean("isDirectory", entry.IsDirectory);
                    writer.WriteNumber("length", entry.Length);
                    writer.WriteString("lastModified", entry.LastModified);
                    writer.WriteString("etag", entry.ETag);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });
            return 0;
        }

        foreach (ListEntry entry in entries)
        {
            string size = entry.IsDirectory ? "-" : ByteSize.Format(entry.Length);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{size,10}  {entry.LastModified.UtcDateTime:yyyy-MM-dd HH:mm}  {entry.Name}{(entry.IsDirectory ? "/" : string.Empty)}"));
        }

        return 0;
    }
}
