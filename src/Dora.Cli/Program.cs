using System.Runtime.InteropServices;
using Dora.Cli.Commands;
using Dora.Cli.CommandLine;
using Dora.Core.Errors;

namespace Dora.Cli;

/// <summary>The <c>dora</c> program.</summary>
internal static class Program
{
    private const string Usage = """
        usage: dora <command> [options]

        commands:
          local     run a whole cluster over a folder: workers and a scheduler (sample data when none is given)
          worker    run one worker registered in the cluster's registry (etcd or a static file)
          scheduler run the cluster's scheduler (load jobs, REST API on port 8818)
          workers   list the cluster's workers: address, state, age, share of the key space
          ls        list a directory
          stat      a file's status and how much of it is cached
          cat       write a file (or a byte range of it) to standard output
          load      preload files (a file, a directory, a pattern; optionally some Parquet columns) into the cache
          invalidate  make every worker look at a path (or everything below it) again in the under storage
          evict     drop a file's cached pages on every worker
          jobs      list the scheduler's jobs, show one, or cancel one
          help      show this text

        """;

    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        // SIGTERM (systemd, docker stop, kill) stops as cleanly as Ctrl+C: a worker leaves the ring at once.
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            Console.Write(Usage + LocalCommand.Usage + "\n" + WorkerCommand.Usage + "\n" + WorkersCommand.Usage + "\n" + LsCommand.Usage + "\n" + StatCommand.Usage + "\n" + CatCommand.Usage + "\n"
                + SchedulerCommand.Usage + "\n" + LoadCommand.Usage + "\n" + JobsCommand.Usage + "\n" + InvalidateCommand.Usage + "\n" + EvictCommand.Usage + "\n");
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            return args[0] switch
            {
                "local" => await LocalCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "worker" => await WorkerCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "workers" => await WorkersCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "ls" => await LsCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "stat" => await StatCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "cat" => await CatCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "scheduler" => await SchedulerCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "load" => await LoadCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "jobs" => await JobsCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "invalidate" => await InvalidateCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                "evict" => await EvictCommand.RunAsync(args[1..], stop.Token).ConfigureAwait(false),
                _ => throw new UsageException($"unknown command '{args[0]}' (try 'dora help')"),
            };
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"dora: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is DoraException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"dora: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
