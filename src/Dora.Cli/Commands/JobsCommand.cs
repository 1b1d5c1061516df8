using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Units;
using Dora.Scheduler.Jobs;

namespace Dora.Cli.Commands;

/// <summary><c>dora jobs</c>: the scheduler's jobs; <c>dora jobs ID</c> one job; <c>dora jobs cancel ID</c> cancels one.</summary>
internal static class JobsCommand
{
    public static Command Create()
    {
        var command = new Command("jobs", "list the scheduler's jobs, show one, cancel or delete one") { new Argument<string?>("ID") { Description = "show this job", Arity = ArgumentArity.ZeroOrOne } };
        AddOptions(command);
        var cancel = new Command("cancel", "cancel a job") { new Argument<string>("ID") { Description = "the job to cancel" } };
        AddOptions(cancel);
        cancel.SetAction(Program.Run(CancelAsync));
        command.Subcommands.Add(cancel);
        var delete = new Command("delete", "delete a job (cancelled first when it is unfinished) and its record") { new Argument<string>("ID") { Description = "the job to delete" } };
        AddOptions(delete);
        delete.SetAction(Program.Run(DeleteAsync));
        command.Subcommands.Add(delete);
        return command;
    }

    private static void AddOptions(Command command)
    {
        CliOptions.AddTo(command, CliOptions.Flag("--json", "machine-readable output"));
        SchedulerClient.AddOptions(command);
    }

    private static Task<int> CancelAsync(ArgumentReader reader, CancellationToken cancellationToken) =>
        ShowAsync(reader, reader.Argument("ID")!, (scheduler, id, token) => scheduler.CancelAsync(id, token), cancellationToken);

    private static Task<int> DeleteAsync(ArgumentReader reader, CancellationToken cancellationToken) =>
        ShowAsync(reader, reader.Argument("ID")!, (scheduler, id, token) => scheduler.DeleteAsync(id, token), cancellationToken);

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        if (reader.Argument("ID") is { } id)
        {
            return await ShowAsync(reader, id, (scheduler, job, token) => scheduler.GetAsync(job, token), cancellationToken).ConfigureAwait(false);
        }

        bool json = reader.Flag("--json");
        using SchedulerClient scheduler = await SchedulerClient.ConnectAsync(reader, cancellationToken).ConfigureAwait(false);

        List<JobDocument> jobs = await scheduler.ListAsync(cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(jobs, SchedulerJson.Default.ListJobDocument));
            return 0;
        }

        if (jobs.Count == 0)
        {
            Console.WriteLine("No jobs.");
            return 0;
        }

        Console.WriteLine($"{"ID",-22} {"STATE",-10} {"FILES",12} {"BYTES",12} {"FAILED",7}  {"CREATED",-20} PATH");
        foreach (JobDocument job in jobs)
        {
            ProgressCounts p = job.Progress;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{job.Id,-22} {job.State.Name(),-10} {p.FilesLoaded + p.FilesSkipped,5}/{p.FilesPlanned,-6} {ByteSize.Format(p.BytesLoaded + p.BytesSkipped),12} {p.FilesFailed,7}  {job.CreatedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss} {job.Spec.Path}"));
        }

        return 0;
    }

    /// <summary>Runs one call on a job (show, cancel, delete) and prints the job it answers with.</summary>
    private static async Task<int> ShowAsync(ArgumentReader reader, string id, Func<SchedulerClient, string, CancellationToken, Task<JobDocument>> call, CancellationToken cancellationToken)
    {
        bool json = reader.Flag("--json");
        using SchedulerClient scheduler = await SchedulerClient.ConnectAsync(reader, cancellationToken).ConfigureAwait(false);
        JobDocument job = await call(scheduler, id, cancellationToken).ConfigureAwait(false);
        if (json)
        {
            WriteJson(job);
        }
        else
        {
            WriteDetails(job);
        }

        return 0;
    }

    public static void WriteJson(JobDocument job) => Console.WriteLine(JsonSerializer.Serialize(job, SchedulerJson.Default.JobDocument));

    public static void WriteDetails(JobDocument job)
    {
        ProgressCounts p = job.Progress;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
              job            {job.Id} ({job.Type} {job.Spec.Path})
              state          {job.State.Name()}{(job.Error is null ? string.Empty : $": {job.Error}")}
              files          {p.FilesPlanned} planned, {p.FilesLoaded} loaded, {p.FilesSkipped} skipped (cached), {p.FilesFailed} failed
              bytes          {ByteSize.Format(p.BytesPlanned)} planned, {ByteSize.Format(p.BytesLoaded)} loaded, {ByteSize.Format(p.BytesSkipped)} skipped, {ByteSize.Format(p.BytesFailed)} failed
              tasks          {p.TasksDone}/{p.TasksPlanned}
              elapsed        {job.ElapsedSeconds:0.0} s{(job.State == JobState.Running ? $", {ByteSize.Format((long)job.ThroughputBytesPerSecond)}/s" : string.Empty)}
            """));
        if (job.Spec.Verify)
        {
            Console.WriteLine($"  verified       {p.PagesVerified} pages, {p.PagesMissing} not cached intact");
        }

        foreach (FileFailure failure in job.Failures)
        {
            Console.WriteLine($"  failed         {failure.Path}: {failure.Reason}");
        }
    }
}
