using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Core.Units;
using Dora.Scheduler.Jobs;

namespace Dora.Cli.Commands;

/// <summary>
/// <c>dora load PATH</c>: submits a load job to the scheduler; with <c>--wait</c>, shows its progress until it ends and
/// exits non-zero when it did not succeed.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var command = new Command("load", "preload files (a file, a directory, a pattern; optionally some Parquet columns) into the cache")
        {
            CliOptions.Path("a file, a directory, or a pattern such as '/trips/2024-*/*.parquet'"),
        };
        CliOptions.AddTo(
            command,
            CliOptions.Value("--columns", "A,B", "Parquet: load only these columns' chunks (and the footers)"),
            CliOptions.Value("--filter", "GLOB", "only files matching GLOB (on the file name, or on the path below PATH when it has a '/')"),
            CliOptions.Value("--filter-regex", "RE", "only files whose full path matches RE"),
            CliOptions.Flag("--no-recursive", "do not descend into subdirectories"),
            CliOptions.Flag("--no-skip-cached", "load files even when they are fully cached already"),
            CliOptions.Value("--bandwidth", "SIZE", "at most SIZE per second across the job, e.g. 200MiB"),
            CliOptions.Flag("--verify", "afterwards, check every loaded page against its checksum and report what is not cached"),
            CliOptions.Value("--max-failed-files", "N", "the job fails once more than N files failed (default 0)"),
            CliOptions.Flag("--wait", "show progress until the job ends; exit 1 when it fails or is cancelled"),
            CliOptions.Flag("--json", "machine-readable output (the job; with --wait, its final state)"));
        SchedulerClient.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string path = reader.Path;
        string? columns = reader.String("--columns");
        string? filter = reader.String("--filter");
        string? regex = reader.String("--filter-regex");
        bool recursive = !reader.Flag("--no-recursive");
        bool skip = !reader.Flag("--no-skip-cached");
        long bandwidth = reader.Bytes("--bandwidth", 0);
        bool verify = reader.Flag("--verify");
        int maxFailed = reader.Int("--max-failed-files", 0, 0, int.MaxValue);
        bool wait = reader.Flag("--wait");
        bool json = reader.Flag("--json");
        using SchedulerClient scheduler = await SchedulerClient.ConnectAsync(reader, cancellationToken).ConfigureAwait(false);

        byte[] body = SchedulerClient.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "load");
            w.WriteString("path", path);
            w.WriteBoolean("recursive", recursive);
            w.WriteBoolean("skipIfCached", skip);
            w.WriteBoolean("verify", verify);
            w.WriteNumber("maxFailedFiles", maxFailed);
            if (filter is not null)
            {
                w.WriteString("filter", filter);
            }

            if (regex is not null)
            {
                w.WriteString("filterRegex", regex);
            }

            if (bandwidth > 0)
            {
                w.WriteNumber("bandwidth", bandwidth);
            }

            if (columns is not null)
            {
                w.WriteStartArray("columns");
                foreach (string column in columns.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    w.WriteStringValue(column);
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        });
        JobDocument job = await scheduler.SubmitAsync(body, cancellationToken).ConfigureAwait(false);
        if (!wait)
        {
            if (json)
            {
                JobsCommand.WriteJson(job);
            }
            else
            {
                Console.WriteLine($"Job {job.Id} submitted ({job.State.Name()}). Follow it with: dora jobs {job.Id}");
            }

            return 0;
        }

        if (await FollowAsync(scheduler, job, json, cancellationToken).ConfigureAwait(false) is not { } ended)
        {
            return 130;
        }

        job = ended;
        if (json)
        {
            JobsCommand.WriteJson(job);
        }
        else
        {
            JobsCommand.WriteDetails(job);
        }

        return job.State == JobState.Succeeded ? 0 : 1;
    }

    /// <summary>Polls the job until it ends, drawing a progress line (on a terminal) or a line every few seconds.</summary>
    /// <returns>The ended job, or null when waiting was interrupted (Ctrl+C): the job goes on.</returns>
    private static async Task<JobDocument?> FollowAsync(SchedulerClient scheduler, JobDocument job, bool quiet, CancellationToken cancellationToken)
    {
        bool terminal = !Console.IsOutputRedirected;
        DateTime lastLine = DateTime.MinValue;
        while (!job.State.IsFinished())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"\nStopped waiting; job {job.Id} goes on (dora jobs cancel {job.Id} stops it).");
                return null;
            }

            job = await scheduler.GetAsync(job.Id, cancellationToken).ConfigureAwait(false);
            if (quiet)
            {
                continue;
            }

            string line = ProgressLine(job);
            if (terminal)
            {
                Console.Write("\r" + line.PadRight(Math.Max(line.Length, Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 0)));
            }
            else if (DateTime.UtcNow - lastLine > TimeSpan.FromSeconds(5) || job.State.IsFinished())
            {
                Console.WriteLine(line);
                lastLine = DateTime.UtcNow;
            }
        }

        if (terminal && !quiet)
        {
            Console.WriteLine();
        }

        return job;
    }

    /// <summary><c>[#########.....]  45%  12/30 files  1.2 GiB/2.7 GiB  310 MiB/s  ETA 5 s</c>.</summary>
    public static string ProgressLine(JobDocument job)
    {
        ProgressCounts p = job.Progress;
        long done = p.BytesLoaded + p.BytesSkipped + p.BytesFailed;
        double fraction = p.BytesPlanned == 0 ? (job.State.IsFinished() ? 1 : 0) : Math.Min(1, (double)done / p.BytesPlanned);
        const int Width = 24;
        int filled = (int)(fraction * Width);
        string bar = new string('#', filled) + new string('.', Width - filled);
        string files = $"{p.FilesLoaded + p.FilesSkipped + p.FilesFailed}/{p.FilesPlanned}{(job.Planning ? "+" : string.Empty)} files";
        string eta = job.EtaSeconds is { } seconds ? $"  ETA {TimeSpan.FromSeconds(Math.Ceiling(seconds)):g}" : string.Empty;
        string failed = p.FilesFailed > 0 ? $"  {p.FilesFailed} failed" : string.Empty;
        return $"[{bar}] {fraction * 100,3:0}%  {files}  {ByteSize.Format(done)}/{ByteSize.Format(p.BytesPlanned)}  {ByteSize.Format((long)job.ThroughputBytesPerSecond)}/s{eta}{failed}  {job.State.Name()}";
    }
}
