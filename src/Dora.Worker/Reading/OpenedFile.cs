using Dora.Core.Errors;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Worker.Pages;

namespace Dora.Worker.Reading;

/// <summary>A file whose metadata has been looked up once, for a series of reads of that version.</summary>
public sealed record OpenedFile(DoraPath Path, UfsFileStatus Status, PageSource Source)
{
    public long Length => Status.Length;

    /// <summary>
    /// Where a requested range ends once cut at the end of the file (a null length means "to the end"). The rule every
    /// endpoint shares: an offset equal to the length is an empty range; past it, or negative numbers, an error.
    /// </summary>
    /// <exception cref="InvalidRangeException">The offset is past the end of the file, or offset or length is negative.</exception>
    public long RangeEnd(long offset, long? length)
    {
        if (offset < 0 || length < 0 || offset > Length)
        {
            throw new InvalidRangeException(Path.Value, offset, length ?? 0, Length);
        }

        return length is { } wanted ? offset + Math.Min(wanted, Length - offset) : Length;
    }
}
