using System.Globalization;
using System.Text.Json;
using Dora.Cli.CommandLine;
using Dora.Core.Units;
using Dora.Scheduler.Jobs;

namespace Dora.Cli.Commands;

/// <summary><c>dora jobs</c>: the scheduler's jobs; <c>dora jobs ID</c> one job; <c>dora jobs cancel ID</c> cancels one.</summary>
internal static class JobsCommand
{
    public const string Usage = """
        dora jobs [ID | cancel ID] [options]
          --json               machine-readable output

        """ + SchedulerClient.Usage;

    public static async Task<int> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        string? action = arguments.Count > 0 && !arguments[0].StartsWith("--", StringComparison.Ordinal) ? arguments[0] : null;
        string? id = action == "cancel"
            ? (arguments.Count > 1 && !arguments[1].StartsWith("--", StringComparison.Ordinal) ? arguments[1] : throw new UsageException("dora jobs cancel needs a job id"))
            : action;
        int skip = action is null ? 0 : action == "cancel" ? 2 : 1;
        var reader = new ArgumentReader([.. arguments.Skip(skip)], new HashSet<string> { "--json" });
        bool json = reader.Flag("--json");
        using SchedulerClient scheduler = await SchedulerClient.ConnectAsync(reader, cancellationToken).ConfigureAwait(false);
        reader.EnsureAllRead();

        if (id is not null)
        {
            JobDocument job = action == "cancel"
                ? await scheduler.CancelAsync(id, cancellationToken).ConfigureAwait(false)
                : await scheduler.GetAsync(id, cancellationToken).ConfigureAwait(false);
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
