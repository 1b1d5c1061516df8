namespace Dora.Scheduler.Planning;

/// <summary>Turns the byte ranges a file needs into task ranges: sorted, overlapping or touching ones merged, long ones cut.</summary>
internal static class RangePlan
{
    public static List<ByteRange> Build(IEnumerable<ByteRange> needed, long maxRangeBytes)
    {
        var merged = new List<ByteRange>();
        foreach (ByteRange range in needed.Where(r => r.Length > 0).OrderBy(r => r.Offset))
        {
            if (merged.Count > 0 && range.Offset <= merged[^1].End)
            {
                ByteRange last = merged[^1];
                merged[^1] = new ByteRange(last.Offset, Math.Max(last.End, range.End) - last.Offset);
            }
            else
            {
                merged.Add(range);
            }
        }

        var tasks = new List<ByteRange>();
        foreach (ByteRange range in merged)
        {
            for (long offset = range.Offset; offset < range.End; offset += maxRangeBytes)
            {
                tasks.Add(new ByteRange(offset, Math.Min(maxRangeBytes, range.End - offset)));
            }
        }

        return tasks;
    }
}
