using Dora.Cli.CommandLine;
using Dora.Cli.Samples;
using Dora.Core.Mounts;
using Dora.Worker.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary><c>dora local</c>: a worker over a folder (sample data when none is given), until Ctrl+C.</summary>
internal static class LocalCommand
{
    public const string Usage = """
        dora local [options]
          --ufs DIR            folder to serve (default: a generated sample dataset in .dora/sample)

        """ + WorkerSettings.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var reader = new ArgumentReader(arguments, new HashSet<string>());
        var ufs = reader.String("--ufs");
        var storage = WorkerSettings.Read(reader);
        reader.EnsureAllRead();

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

        var options = storage.ToWorkerOptions(folder);
        await using var worker = await WorkerHost.StartAsync(options, logging => logging.SetMinimumLevel(LogLevel.Warning), cancellationToken).ConfigureAwait(false);
        var http = worker.HttpAddress.ToString().TrimEnd('/');
        var example = sample ? "/trips/2024/part-0.parquet" : "/<file>";
        Console.WriteLine($"""
            Dora local is running.
              under storage  {folder}{(sample ? " (sample data)" : string.Empty)}
              cache          {storage.Describe()}
              consistency    {storage.Consistency.ToString().ToLowerInvariant()}{(storage.Consistency == ConsistencyMode.Ttl ? $" ({storage.Ttl.TotalSeconds:0} s)" : string.Empty)}
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
}
