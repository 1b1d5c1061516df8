using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Dora.Cli.Commands;
using Dora.Cli.CommandLine;
using Dora.Core.Errors;

namespace Dora.Cli;

/// <summary>
/// The <c>dora</c> program. Every command takes <c>--help</c>; a bad command line is one line naming the problem (exit
/// 2), a failure one line saying what failed (exit 1); stack traces are not for users.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // Lives as long as the process: a signal handler may still run while Main returns.
        var stop = new CancellationTokenSource();
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

        RootCommand root = Create();
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string command = parsed.CommandResult.Command == root ? "dora" : $"dora {parsed.CommandResult.Command.Name}";

            // What the user typed wrong says more than what is missing because of it.
            ParseError error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            await Console.Error.WriteLineAsync($"dora: {error.Message} (see '{command} --help')").ConfigureAwait(false);
            return 2;
        }

        if (args.Length == 0)
        {
            await Console.Error.WriteLineAsync("dora: a command is needed (see 'dora --help')").ConfigureAwait(false);
            return 2;
        }

        // Signals are handled above (a worker's clean stop takes longer than System.CommandLine's termination timeout).
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        return await parsed.InvokeAsync(invocation, stop.Token).ConfigureAwait(false);
    }

    private static RootCommand Create()
    {
        var root = new RootCommand("Dora: a distributed caching data service for analytics and AI.");
        foreach (var (command, run) in new (Command, Func<ArgumentReader, CancellationToken, Task<int>>)[]
        {
            (LocalCommand.Create(), LocalCommand.RunAsync),
            (WorkerCommand.Create(), WorkerCommand.RunAsync),
            (SchedulerCommand.Create(), SchedulerCommand.RunAsync),
            (WorkersCommand.Create(), WorkersCommand.RunAsync),
            (LsCommand.Create(), LsCommand.RunAsync),
            (StatCommand.Create(), StatCommand.RunAsync),
            (CatCommand.Create(), CatCommand.RunAsync),
            (LoadCommand.Create(), LoadCommand.RunAsync),
            (JobsCommand.Create(), JobsCommand.RunAsync),
            (InvalidateCommand.Create(), InvalidateCommand.RunAsync),
            (EvictCommand.Create(), EvictCommand.RunAsync),
            (MountCommand.Create(), MountCommand.RunAsync),
            (UmountCommand.Create(), UmountCommand.RunAsync),
        })
        {
            command.SetAction(Run(run));
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>A command's action: its failures become one line on standard error and an exit code.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Run(Func<ArgumentReader, CancellationToken, Task<int>> run) => async (result, cancellationToken) =>
    {
        try
        {
            return await run(new ArgumentReader(result), cancellationToken).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"dora: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception e) when (e is DoraException or IOException or UnauthorizedAccessException or ArgumentException or System.Net.Http.HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"dora: {CliErrors.Describe(e)}").ConfigureAwait(false);
            return 1;
        }
    };
}
