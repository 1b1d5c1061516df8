namespace Dora.Formats;

/// <summary>The magic bytes a file format puts at the start and the end of a file.</summary>
internal static class FileMagic
{
    /// <summary>
    /// True when a file of <paramref name="length"/> bytes (at least <paramref name="minLength"/>) starts with
    /// <paramref name="head"/> and ends with one of <paramref name="tails"/> (all of one length).
    /// </summary>
    public static async Task<bool> MatchesAsync(ReadAt read, long length, int minLength, byte[] head, byte[][] tails, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (length < minLength)
        {
            return false;
        }

        byte[] start = new byte[head.Length];
        byte[] end = new byte[tails[0].Length];
        await read(0, start, cancellationToken).ConfigureAwait(false);
        if (!start.AsSpan().SequenceEqual(head))
        {
            return false;
        }

        await read(length - end.Length, end, cancellationToken).ConfigureAwait(false);
        return tails.Any(tail => end.AsSpan().SequenceEqual(tail));
    }
}
