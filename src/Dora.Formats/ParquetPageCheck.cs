namespace Dora.Formats;

/// <summary>
/// Checks a Parquet column chunk's pages before a decoder sees them: each page header must be a well-formed Thrift
/// struct, each page must lie inside the chunk, and the pages together may not claim more uncompressed bytes than the
/// footer said the chunk has. The decoder allocates what a page header claims and trusts its counts, so a damaged header
/// would otherwise cost gigabytes or minutes; the footer's sizes are what the decode memory budget reserved.
/// /// </summary>
public static class ParquetPageCheck
{
    /// <exception cref="FileLayoutException">A page is damaged; the message names the file, the column and the byte.</exception>
    public static void Chunk(ReadOnlySpan<byte> chunk, long chunkOffset, long totalUncompressedSize, string path, string column)
    {
        Span<long> sizes = stackalloc long[ParquetThrift.CompressedPageSize + 1];
        long uncompressed = 0;
        int at = 0;
        while (at < chunk.Length)
        {
            sizes.Fill(-1);
            int headerLength;
            try
            {
                headerLength = ThriftCompactCheck.Struct(chunk[at..], ParquetThrift.PageHeader, sizes);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw Damaged($"its page header is damaged: {e.Message}");
            }

            long pageSize = sizes[ParquetThrift.CompressedPageSize];
            if (pageSize < 0 || pageSize > chunk.Length - at - headerLength)
            {
                throw Damaged($"a page of {pageSize} bytes runs past the chunk's end");
            }

            uncompressed += headerLength + Math.Max(0, sizes[ParquetThrift.UncompressedPageSize]);
            if (sizes[ParquetThrift.UncompressedPageSize] < 0 || uncompressed > totalUncompressedSize)
            {
                throw Damaged($"its pages claim more than the {totalUncompressedSize} uncompressed bytes the footer gives the chunk");
            }

            at += headerLength + (int)pageSize;
        }

        FileLayoutException Damaged(string problem) =>
            new($"'{path}' has a damaged page in column '{column}' at byte {chunkOffset + at}: {problem}");
    }
}
