using System.Runtime.CompilerServices;
using Dora.Client;
using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Formats;
using Dora.Scheduler.Jobs;

namespace Dora.Scheduler.Planning;

/// <summary>
/// Plans a load job as a stream of files: walks the job's directory through the workers' listings (a directory at a
/// time, a page at a time, so memory stays bounded for millions of files), keeps the files the filter takes, and plans
/// each one's byte ranges. With <c>columns</c>, a Parquet file's footer is read and only the head magic, the footer and
/// the chosen columns' chunks are planned; other files are planned whole. Whatever goes wrong with one file or directory
/// (a damaged footer, a missing column, a file gone since it was listed, a directory that cannot be listed) makes that
/// one fail, named, and counted against the job's <c>maxFailedFiles</c>; planning goes on with the rest.
/// </summary>
internal sealed class LoadPlanner(DoraClient client, LoadJobSpec spec)
{
    private readonly FileFilter _filter = new(spec);
    private readonly HashSet<string>? _columns = spec.Columns?.ToHashSet(StringComparer.Ordinal);

    public async IAsyncEnumerable<PlannedFile> PlanAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        StatReply root = await client.StatAsync(_filter.Root.Value, cancellationToken).ConfigureAwait(false);
        if (!root.IsDirectory)
        {
            if (_filter.Matches(_filter.Root))
            {
                yield return await PlanFileAsync(_filter.Root.Value, root.Length, cancellationToken).ConfigureAwait(false);
            }

            yield break;
        }

        var directories = new Stack<DoraPath>();
        directories.Push(_filter.Root);
        while (directories.TryPop(out DoraPath directory))
        {
            string? after = null;
            do
            {
                ListReply page;
                string? failure = null;
                try
                {
                    page = await client.ListAsync(directory.Value, after, ListingPage, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsAboutThisPath(e))
                {
                    // The job's root was found: this directory is the problem (it vanished, or cannot be read).
                    page = new ListReply([], Next: null);
                    failure = e.Message;
                }

                if (failure is not null)
                {
                    yield return new PlannedFile(directory.Value, 0, [], "directory", $"listing failed: {failure}");
                }

                foreach (ListEntry entry in page.Entries)
                {
                    DoraPath child = directory.Combine(entry.Name);
                    if (entry.IsDirectory)
                    {
                        if (spec.Recursive)
                        {
                            directories.Push(child);
                        }
                    }
                    else if (_filter.Matches(child))
                    {
                        yield return await PlanFileAsync(child.Value, entry.Length, cancellationToken).ConfigureAwait(false);
                    }
                }

                after = page.Next;
            }
            while (after is not null);
        }
    }

    /// <summary>Entries per listing page the planner asks for.</summary>
    private const int ListingPage = 1000;

    /// <summary>
    /// Errors that belong to the file or directory being planned, not to the job: Dora's own (not found, changed, a
    /// worker that could not serve it after failover), I/O, a layout that cannot be read. Cancellation stops the job.
    /// </summary>
    private static bool IsAboutThisPath(Exception error) => error is FileLayoutException or DoraException or IOException;

    private async Task<PlannedFile> PlanFileAsync(string path, long length, CancellationToken cancellationToken)
    {
        if (_columns is { } columns && IsParquetName(path))
        {
            try
            {
                ParquetLayout layout = await ParquetLayout.ReadAsync(ReaderOf(path), length, path, cancellationToken).ConfigureAwait(false);
                var needed = new List<ByteRange> { new(0, layout.Head.Length), new(layout.FooterOffset, layout.Footer.Length) };
                needed.AddRange(layout.ChunkRanges(columns).Select(c => new ByteRange(c.Offset, c.Length)));
                return new PlannedFile(path, length, RangePlan.Build(needed, spec.RangeBytes), "parquet");
            }
            catch (Exception e) when (IsAboutThisPath(e))
            {
                return new PlannedFile(path, length, [], "parquet", e.Message);
            }
        }

        return new PlannedFile(path, length, RangePlan.Build([new ByteRange(0, length)], spec.RangeBytes), "whole");
    }

    private static bool IsParquetName(string path) =>
        path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".parq", StringComparison.OrdinalIgnoreCase);

    /// <summary>Positioned reads of a file through its owner (so the footer's pages are cached on the way).</summary>
    private ReadAt ReaderOf(string path) => async (offset, destination, cancellationToken) =>
    {
        int read = await client.ReadAsync(path, offset, destination, cancellationToken).ConfigureAwait(false);
        if (read != destination.Length)
        {
            throw new IOException($"'{path}' ended at {offset + read} bytes while reading its footer");
        }
    };
}
