using Dora.Cli.CommandLine;
using Dora.Cli.Samples;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Core.Units;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;
using Dora.Worker.Pages.Eviction;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora local</c>: a worker over a folder (sample data when none is given), until Ctrl+C.</summary>
internal static class LocalCommand
{
    public const string Usage = """
        dora local [options]
          --ufs DIR            folder to serve (default: a generated sample dataset in .dora/sample)
          --cache-dir DIR      where pages and metadata are kept (default .dora/cache)
          --cache-size SIZE    page cache quota, e.g. 512MiB, 10GiB (default 4GiB)
          --page-size SIZE     page size, 4KiB to 64MiB (default 1MiB)
          --eviction POLICY    lru, fifo, lfu or s3fifo (default lru)
          --consistency MODE   ttl, immutable or always (default ttl)
          --ttl SECONDS        revalidation interval of the ttl mode (default 60)
          --http-port PORT     worker HTTP port (default 8817; 0 picks a free one)
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var reader = new ArgumentReader(arguments, new HashSet<string>());
        var ufs = reader.String("--ufs");
        var cacheDir = Path.GetFullPath(reader.String("--cache-dir") ?? Path.Combine(".dora", "cache"));
        var cacheSize = reader.Bytes("--cache-size", 4L << 30);
        var pageSize = reader.Bytes("--page-size", PageStoreOptions.DefaultPageSize);
        var eviction = ParseEnum<EvictionPolicyKind>(reader.String("--eviction") ?? "lru", "--eviction");
        var consistency = ParseEnum<ConsistencyMode>(reader.String("--consistency") ?? "ttl", "--consistency");
        var ttl = TimeSpan.FromSeconds(reader.Int("--ttl", 60, 0, 86_400 * 365));
        var httpPort = reader.Int("--http-port", WorkerOptions.DefaultHttpPort, 0, 65535);
        reader.EnsureAllRead();
        if (pageSize is < PageStoreOptions.MinPageSize or > PageStoreOptions.MaxPageSize)
        {
            throw new UsageException($"option '--page-size' must be between {ByteSize.Format(PageStoreOptions.MinPageSize)} and {ByteSize.Format(PageStoreOptions.MaxPageSize)} (was {ByteSize.Format(pageSize)})");
        }

        var sample = ufs is null;
        var folder = Path.GetFullPath(ufs ?? Path.Combine(".dora", "sample"));
        if (sample)
        {
            Console.WriteLine($"Generating the sample dataset in {folder} ...");
            await SampleDataset.EnsureAsync(folder, cancellationToken).ConfigureAwait(false);
        }
        else if (!Directory.Exists(folder))
        {
            throw new UsageException($"option '--ufs': the folder '{folder}' does not exist");
        }

        var mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(folder), consistency, ttl)]);
        var options = new WorkerOptions
        {
            Mounts = mounts,
            Pages = new PageStoreOptions
            {
                Directories = [new CacheDirectoryOptions(Path.Combine(cacheDir, "pages"), cacheSize)],
                PageSize = (int)pageSize,
                Eviction = eviction,
            },
            Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cacheDir, "metadata") },
            HttpPort = httpPort,
        };

        await using var worker = await WorkerHost.StartAsync(options, logging => logging.SetMinimumLevel(LogLevel.Warning), cancellationToken).ConfigureAwait(false);
        var http = worker.HttpAddress.ToString().TrimEnd('/');
        var example = sample ? "/trips/2024/part-0.parquet" : "/<file>";
        Console.WriteLine($"""
            Dora local is running.
              under storage  {folder}{(sample ? " (sample data)" : string.Empty)}
              cache          {cacheDir} (quota {ByteSize.Format(cacheSize)}, {ByteSize.Format(pageSize)} pages, {eviction.ToString().ToLowerInvariant()} eviction)
              consistency    {consistency.ToString().ToLowerInvariant()}{(consistency == ConsistencyMode.Ttl ? $" ({ttl.TotalSeconds:0} s)" : string.Empty)}
              worker HTTP    {http}/
            Try:
              curl '{http}/v1/files?path=/'
              curl '{http}/v1/info?path={example}'
              curl -s -r 0-1023 '{http}/v1/data?path={example}' | xxd | head
              curl -s '{http}/metrics' | grep dora_cache
            Press Ctrl+C to stop.
            """);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping.");
        }

        return 0;
    }

    private static T ParseEnum<T>(string text, string option)
        where T : struct, Enum
    {
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _))
        {
            return value;
        }

        var names = string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        throw new UsageException($"option '{option}' must be one of {names} (was '{text}')");
    }
}
