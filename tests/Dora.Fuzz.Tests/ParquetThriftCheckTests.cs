using System.Buffers.Binary;
using Dora.Formats;
using Dora.TestSupport;

namespace Dora.Fuzz.Tests;

/// <summary>
/// The Thrift walk in front of Parquet.Net: every valid file passes it untouched, and each way a crafted footer or page
/// header has made the decoder spin or over-allocate is refused with a message naming the file and the problem.
/// </summary>
public sealed class ParquetThriftCheckTests
{
    public static TheoryData<string> Seeds() => [.. Directory.GetFiles(RepositoryFiles.PathOf("fuzz/corpus/parquet")).Select(file => Path.GetFileName(file))];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Valid_files_pass_the_footer_and_page_checks(string seed)
    {
        byte[] file = await File.ReadAllBytesAsync(RepositoryFiles.PathOf($"fuzz/corpus/parquet/{seed}"));
        ParquetLayout layout = await ReadLayoutAsync(file);

        List<(long Offset, long Length)> chunks = layout.ChunkRanges(null);
        Assert.Equal(10, chunks.Count);
        foreach (string column in layout.ColumnNames())
        {
            for (int rowGroup = 0; rowGroup < 2; rowGroup++)
            {
                (long offset, long length) = layout.ChunkRange(rowGroup, column);
                ParquetPageCheck.Chunk(file.AsSpan((int)offset, (int)length), offset, layout.Chunk(rowGroup, column).TotalUncompressedSize, "/seed.parquet", column);
            }
        }
    }

    [Fact]
    public async Task A_list_longer_than_the_footer_is_refused()
    {
        // FileMetaData { 1: version = 2, 2: schema = list of 2^31-1 structs }
        byte[] file = ParquetWithFooter([0x15, 0x04, 0x19, 0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00, 0x00]);

        var refused = await Assert.ThrowsAsync<FileLayoutException>(() => ReadLayoutAsync(file));
        Assert.Contains("declares 2147483647 elements", refused.Message, StringComparison.Ordinal);
        Assert.Contains("'/crafted.parquet'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_field_of_another_type_than_the_format_gives_it_is_refused()
    {
        // FileMetaData { 2: schema as an i32 } — Parquet.Net would read a list header out of the following bytes.
        byte[] file = ParquetWithFooter([0x25, 0x04, 0x00]);

        var refused = await Assert.ThrowsAsync<FileLayoutException>(() => ReadLayoutAsync(file));
        Assert.Contains("field 2 of FileMetaData", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stop_byte_with_a_field_delta_is_refused()
    {
        byte[] file = ParquetWithFooter([0x15, 0x04, 0x10]);

        var refused = await Assert.ThrowsAsync<FileLayoutException>(() => ReadLayoutAsync(file));
        Assert.Contains("Thrift type 0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undefined_struct_with_values_is_refused()
    {
        // FileMetaData { 20: struct { 1: i32 } } — Parquet.Net skips it reading field headers only.
        byte[] file = ParquetWithFooter([0x0C, 0x28, 0x15, 0x02, 0x00, 0x00]);

        var refused = await Assert.ThrowsAsync<FileLayoutException>(() => ReadLayoutAsync(file));
        Assert.Contains("does not define", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_that_run_past_their_chunk_or_claim_more_than_the_footer_are_refused()
    {
        byte[] file = await File.ReadAllBytesAsync(RepositoryFiles.PathOf("fuzz/corpus/parquet/small-none"));
        ParquetLayout layout = await ReadLayoutAsync(file);
        (long offset, long length) = layout.ChunkRange(0, "id");
        long uncompressed = layout.Chunk(0, "id").TotalUncompressedSize;
        byte[] chunk = file.AsSpan((int)offset, (int)length).ToArray();

        var cut = Assert.Throws<FileLayoutException>(() => ParquetPageCheck.Chunk(chunk.AsSpan(0, chunk.Length - 1), offset, uncompressed, "/seed.parquet", "id"));
        Assert.Contains("past the chunk's end", cut.Message, StringComparison.Ordinal);

        var claimed = Assert.Throws<FileLayoutException>(() => ParquetPageCheck.Chunk(chunk, offset, uncompressed - 1, "/seed.parquet", "id"));
        Assert.Contains("uncompressed bytes the footer gives the chunk", claimed.Message, StringComparison.Ordinal);
    }

    private static byte[] ParquetWithFooter(byte[] footer)
    {
        byte[] file = new byte[4 + footer.Length + 8];
        "PAR1"u8.CopyTo(file);
        footer.CopyTo(file, 4);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(4 + footer.Length), footer.Length);
        "PAR1"u8.CopyTo(file.AsSpan(8 + footer.Length));
        return file;
    }

    private static Task<ParquetLayout> ReadLayoutAsync(byte[] file) =>
        ParquetLayout.ReadAsync((offset, destination, _) =>
        {
            file.AsMemory((int)offset, destination.Length).CopyTo(destination);
            return ValueTask.CompletedTask;
        }, file.Length, "/crafted.parquet", CancellationToken.None);
}
