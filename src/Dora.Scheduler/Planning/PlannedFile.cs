namespace Dora.Scheduler.Planning;

/// <summary>A byte range of a file: what one task has its owner worker load.</summary>
public readonly record struct ByteRange(long Offset, long Length)
{
    public long End => Offset + Length;
}

/// <summary>One file of a load job and the byte ranges to load (already cut to the job's range size).</summary>
/// <param name="Path">The file's Dora path.</param>
/// <param name="Length">The file's length when it was listed.</param>
/// <param name="Ranges">The ranges to load, in file order.</param>
/// <param name="Layout">How the ranges were chosen: <c>parquet</c> (footer and column chunks), <c>whole</c>.</param>
/// <param name="Error">Why the file could not be planned (then it has no ranges and counts as failed).</param>
public sealed record PlannedFile(string Path, long Length, IReadOnlyList<ByteRange> Ranges, string Layout, string? Error = null)
{
    public long PlannedBytes => Ranges.Sum(r => r.Length);
}
