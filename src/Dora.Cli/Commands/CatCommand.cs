using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Core.Protocol;

namespace Dora.Cli.Commands;

/// <summary><c>dora cat PATH</c>: a file's bytes (or a range of them) on standard output.</summary>
internal static class CatCommand
{
    public static Command Create()
    {
        var command = new Command("cat", "write a file (or a byte range of it) to standard output") { CliOptions.Path("the file, e.g. /trips/2024/part-0.parquet") };
        CliOptions.AddTo(command, CliOptions.Value("--offset", "N", "first byte to write (default 0)"), CliOptions.Value("--length", "N", "bytes to write at most (default: to the end)"));
        ClientSession.AddOptions(command);
        return command;
    }

    /// <summary>Bytes read per request: one default page, so a hot file streams with one round trip per MiB.</summary>
    private const int ChunkSize = 1 << 20;

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string path = reader.Path;
        long offset = reader.Long("--offset", 0);
        long length = reader.Long("--length", long.MaxValue);
        var (registry, options) = ClientSession.Read(reader);

        await using var session = await ClientSession.ConnectAsync(registry, options, cancellationToken).ConfigureAwait(false);
        StatReply stat = await session.Client.StatAsync(path, cancellationToken).ConfigureAwait(false);
        if (stat.IsDirectory)
        {
            throw new UsageException($"'{stat.Path}' is a directory; use dora ls");
        }

        if (offset > stat.Length)
        {
            throw new UsageException($"option '--offset' {offset} is past the end of '{stat.Path}' ({stat.Length} bytes)");
        }

        long end = offset + Math.Min(length, stat.Length - offset);
        byte[] buffer = new byte[ChunkSize];
        await using Stream output = Console.OpenStandardOutput();
        for (long position = offset; position < end;)
        {
            int read = await session.Client.ReadAsync(stat.Path, position, buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - position)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"'{stat.Path}' ended at {position} bytes, before the {end} its status promised (changed while reading?)");
            }

            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            position += read;
        }

        return 0;
    }
}
