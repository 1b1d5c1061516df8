using Microsoft.Net.Http.Headers;

namespace Dora.Worker.Http;

/// <summary>The outcome of reading a <c>Range</c> header against a file length (RFC 9110, section 14).</summary>
internal readonly record struct ByteRange(long Start, long Length)
{
    public enum Outcome
    {
        /// <summary>No Range header: the whole file.</summary>
        Whole,

        /// <summary>One satisfiable range.</summary>
        Partial,

        /// <summary>The header is malformed or asks for several ranges.</summary>
        Invalid,

        /// <summary>Well formed, but no byte of it lies inside the file (416).</summary>
        Unsatisfiable,
    }

    public static Outcome Parse(string? header, long fileLength, out ByteRange range, out string error)
    {
        range = new ByteRange(0, fileLength);
        error = string.Empty;
        if (string.IsNullOrEmpty(header))
        {
            return Outcome.Whole;
        }

        if (!RangeHeaderValue.TryParse(header, out var parsed) || !string.Equals(parsed.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase))
        {
            error = $"the Range header '{header}' is not a valid byte range (expected e.g. 'bytes=0-1023', 'bytes=1024-' or 'bytes=-512')";
            return Outcome.Invalid;
        }

        if (parsed.Ranges.Count != 1)
        {
            error = $"the Range header '{header}' asks for {parsed.Ranges.Count} ranges; only one range per request is supported";
            return Outcome.Invalid;
        }

        var item = parsed.Ranges.First();
        long start;
        long endInclusive;
        if (item.From is null)
        {
            // Suffix range: the last N bytes.
            var suffix = item.To ?? 0;
            if (suffix == 0 || fileLength == 0)
            {
                return Outcome.Unsatisfiable;
            }

            start = Math.Max(0, fileLength - suffix);
            endInclusive = fileLength - 1;
        }
        else
        {
            start = item.From.Value;
            if (start >= fileLength)
            {
                return Outcome.Unsatisfiable;
            }

            endInclusive = Math.Min(item.To ?? long.MaxValue, fileLength - 1);
        }

        range = new ByteRange(start, endInclusive - start + 1);
        return Outcome.Partial;
    }
}
