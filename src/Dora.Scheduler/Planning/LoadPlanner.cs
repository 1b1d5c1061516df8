using System.Runtime.CompilerServices;
using Dora.Client;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Formats;
using Dora.Scheduler.Jobs;

namespace Dora.Scheduler.Planning;

/// <summary>
/// Plans a load job as a stream of files: walks the job's directory through the workers' listings (a directory at a
/// time, a page at a time, so memory stays bounded for millions of files), keeps the files the filter takes, and plans
/// each one's byte ranges. With <c>columns</c>, a Parquet file's footer is read and only the head magic, the footer and
/// the chosen columns' chunks are planned (a damaged footer or a missing column makes that file fail, named); other
/// files are planned whole.
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
            await foreach (ListEntry entry in client.ListAllAsync(directory.Value, cancellationToken).ConfigureAwait(false))
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
        }
    }

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
            catch (FileLayoutException e)
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
