using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Dora.Worker.Pages;

/// <summary>
/// Reads page files (<see cref="PageFileFormat"/>) and checks what it reads: a read checks the checksum of every 4 KiB
/// block it touches, so bytes that changed on disk are caught before they leave the worker. Each method returns null
/// when the page is intact, else the reason it is not.
/// </summary>
internal static class PageFileReader
{
    private const string Truncated = "the page file is shorter than its page";
    private const string Mismatch = "a block does not match its checksum";

    /// <summary>
    /// Copies <c>destination.Length</c> bytes of the page's data from <paramref name="offsetInPage"/> into
    /// <paramref name="destination"/>, checking every block the range touches. Whole blocks are read straight into the
    /// destination; only a partial block at either end goes through a 4 KiB scratch buffer.
    /// </summary>
    public static string? ReadChecked(SafeFileHandle handle, int dataOffset, int pageLength, int offsetInPage, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return null;
        }

        const int shift = PageFileFormat.BlockShift;
        int end = offsetInPage + destination.Length;
        int first = offsetInPage >> shift;
        int last = (end - 1) >> shift;
        int tableLength = (last - first + 1) * sizeof(ulong);
        byte[]? rentedTable = tableLength > 2048 ? ArrayPool<byte>.Shared.Rent(tableLength) : null;
        Span<byte> table = (rentedTable ?? stackalloc byte[2048])[..tableLength];
        try
        {
            if (!ReadFully(handle, table, PageFileFormat.TableOffset + (first * (long)sizeof(ulong))))
            {
                return Truncated;
            }

            Span<byte> scratch = stackalloc byte[PageFileFormat.BlockSize];
            int position = offsetInPage;
            int blockEndOfLast = Math.Min((last + 1) << shift, pageLength);
            bool tailPartial = end != blockEndOfLast;
            if ((position & (PageFileFormat.BlockSize - 1)) != 0 || (first == last && tailPartial))
            {
                if (ReadBlock(handle, dataOffset, pageLength, first, table[..sizeof(ulong)], scratch) is { } problem)
                {
                    return problem;
                }

                int blockStart = first << shift;
                int take = Math.Min(end, Math.Min(blockStart + PageFileFormat.BlockSize, pageLength)) - position;
                scratch.Slice(position - blockStart, take).CopyTo(destination);
                position += take;
            }

            int wholeEnd = tailPartial ? last << shift : end;
            if (wholeEnd > position)
            {
                Span<byte> direct = destination.Slice(position - offsetInPage, wholeEnd - position);
                if (!ReadFully(handle, direct, dataOffset + (long)position))
                {
                    return Truncated;
                }

                if (!PageFileFormat.BlocksMatch(table[(((position >> shift) - first) * sizeof(ulong))..], direct))
                {
                    return Mismatch;
                }

                position = wholeEnd;
            }

            if (position < end)
            {
                if (ReadBlock(handle, dataOffset, pageLength, last, table[((last - first) * sizeof(ulong))..], scratch) is { } problem)
                {
                    return problem;
                }

                int blockStart = last << shift;
                scratch[..(end - blockStart)].CopyTo(destination[(blockStart - offsetInPage)..]);
            }

            return null;
        }
        finally
        {
            if (rentedTable is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedTable);
            }
        }
    }

    /// <summary>Copies bytes of the page's data without checking them (<see cref="ReadCheck.None"/>).</summary>
    public static string? ReadUnchecked(SafeFileHandle handle, int dataOffset, int offsetInPage, Span<byte> destination) =>
        ReadFully(handle, destination, dataOffset + (long)offsetInPage) ? null : Truncated;

    /// <summary>Checks the blocks <paramref name="count"/> bytes from <paramref name="offsetInPage"/> touch, reading them into a scratch buffer.</summary>
    public static string? CheckRange(SafeFileHandle handle, int dataOffset, int pageLength, int offsetInPage, int count)
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(count);
        try
        {
            return ReadChecked(handle, dataOffset, pageLength, offsetInPage, scratch.AsSpan(0, count));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reads the whole file and checks its length, its header and every block.</summary>
    public static string? CheckWhole(SafeFileHandle handle, int dataOffset, long pageIndex, int pageLength)
    {
        long fileLength = RandomAccess.GetLength(handle);
        if (fileLength != dataOffset + (long)pageLength)
        {
            return $"the page file is {fileLength} bytes, not {dataOffset + (long)pageLength}";
        }

        int headerLength = PageFileFormat.TableOffset + (PageFileFormat.BlockCount(pageLength) * sizeof(ulong));
        byte[] header = ArrayPool<byte>.Shared.Rent(headerLength);
        byte[] data = ArrayPool<byte>.Shared.Rent(pageLength);
        try
        {
            Span<byte> headerSpan = header.AsSpan(0, headerLength);
            Span<byte> dataSpan = data.AsSpan(0, pageLength);
            if (!ReadFully(handle, headerSpan, 0) || !ReadFully(handle, dataSpan, dataOffset))
            {
                return Truncated;
            }

            if (!PageFileFormat.HeaderDescribes(headerSpan, pageIndex, pageLength))
            {
                return "the header does not describe this page";
            }

            return PageFileFormat.BlocksMatch(headerSpan[PageFileFormat.TableOffset..], dataSpan) ? null : Mismatch;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    private static string? ReadBlock(SafeFileHandle handle, int dataOffset, int pageLength, int block, ReadOnlySpan<byte> checksum, Span<byte> scratch)
    {
        int blockStart = block << PageFileFormat.BlockShift;
        Span<byte> bytes = scratch[..Math.Min(PageFileFormat.BlockSize, pageLength - blockStart)];
        if (!ReadFully(handle, bytes, dataOffset + (long)blockStart))
        {
            return Truncated;
        }

        return PageFileFormat.BlocksMatch(checksum[..sizeof(ulong)], bytes) ? null : Mismatch;
    }

    private static bool ReadFully(SafeFileHandle handle, Span<byte> destination, long offset)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0)
            {
                return false;
            }

            total += read;
        }

        return true;
    }
}
