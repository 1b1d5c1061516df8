using Apache.Arrow;
using Apache.Arrow.Ipc;
using Dora.Formats;
using Dora.Worker.Reading;
using ParquetSharp;
using ParquetSharp.Arrow;

namespace Dora.Flight.Columnar;

/// <summary>
/// A Parquet file opened with Apache Arrow's own C++ Parquet reader (through ParquetSharp), the reader pyarrow uses, so
/// <c>batches</c> give the schema and values <c>pyarrow.parquet.read_table</c> gives: every physical and logical type,
/// nested lists, structs and maps, dictionaries where the file's stored Arrow schema asks for them. The file is read
/// through the cache with buffered column reads, so a row group of any size decodes a batch at a time.
/// </summary>
internal sealed class ParquetArrowFile : IDisposable
{
    /// <summary>Bytes each column reader buffers from the file at a time: one page of the cache.</summary>
    public const long ColumnBufferBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly ReaderProperties _readerProperties;
    private readonly ArrowReaderProperties _arrowProperties;
    private readonly FileReader _reader;

    /// <summary>Opens the footer of the Parquet file in <paramref name="stream"/> (seekable; disposed with this).</summary>
    /// <exception cref="FileLayoutException">The file cannot be read as Parquet; the message says why.</exception>
    public ParquetArrowFile(Stream stream, string path, long batchRows)
    {
        Path = path;
        _stream = stream;
        _readerProperties = ReaderProperties.GetDefaultReaderProperties();
        _readerProperties.EnableBufferedStream();
        _readerProperties.BufferSize = ColumnBufferBytes;
        _arrowProperties = ArrowReaderProperties.GetDefault();
        _arrowProperties.BatchSize = batchRows;
        _arrowProperties.UseThreads = false;
        _arrowProperties.PreBuffer = false;
        _arrowProperties.CoerceInt96TimestampUnit = Apache.Arrow.Types.TimeUnit.Nanosecond;
        try
        {
            _reader = new FileReader(_stream, _readerProperties, _arrowProperties, leaveOpen: true);
            Columns = new ParquetColumns(_reader.SchemaManifest, Path);
        }
        catch (Exception e) when (DecodeFailures.IsDamage(e))
        {
            Dispose();
            ThrowIfReadFailed();
            throw new FileLayoutException($"'{Path}' cannot be read as Parquet: {DecodeFailures.Reason(e)}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>The file's columns by name, for ticket selections.</summary>
    public ParquetColumns Columns { get; }

    public int RowGroupCount => _reader.NumRowGroups;

    /// <summary>Opens the file's footer (off the caller's thread: the native reader reads synchronously).</summary>
    /// <exception cref="FileLayoutException">The file cannot be read as Parquet; the message says why.</exception>
    public static Task<ParquetArrowFile> OpenAsync(StorageEngine engine, OpenedFile file, long batchRows, CancellationToken cancellationToken) =>
        Task.Run(() => new ParquetArrowFile(new EngineStream(engine, file, cancellationToken), file.Path.Value, batchRows), cancellationToken);

    /// <summary>The rows of a row group, from the footer.</summary>
    public long RowsIn(int rowGroup)
    {
        using RowGroupReader group = _reader.ParquetReader.RowGroup(rowGroup);
        return group.MetaData.NumRows;
    }

    /// <summary>The uncompressed bytes of <paramref name="leaves"/> (all when null) in a row group, from the footer.</summary>
    public long UncompressedBytes(int rowGroup, IReadOnlyList<int>? leaves)
    {
        using RowGroupReader group = _reader.ParquetReader.RowGroup(rowGroup);
        long total = 0;
        foreach (int leaf in leaves ?? Enumerable.Range(0, group.MetaData.NumColumns))
        {
            using ColumnChunkMetaData chunk = group.MetaData.GetColumnChunkMetaData(leaf);
            total += Math.Max(0, chunk.TotalUncompressedSize);
        }

        return total;
    }

    /// <summary>The row groups a ticket names (all when it names none), each checked to exist.</summary>
    /// <exception cref="TicketException">A row group does not exist.</exception>
    public IReadOnlyList<int> RowGroups(IReadOnlyList<int>? chosen)
    {
        foreach (int rowGroup in chosen ?? [])
        {
            if (rowGroup < 0 || rowGroup >= RowGroupCount)
            {
                throw new TicketException($"'{Path}' has {RowGroupCount} row groups; rowGroup {rowGroup} does not exist");
            }
        }

        return chosen ?? [.. Enumerable.Range(0, RowGroupCount)];
    }

    /// <summary>The Arrow schema of a selection, exactly as <see cref="Read"/> streams it.</summary>
    public Schema SchemaOf(ParquetColumns.Selection selection)
    {
        using IArrowArrayStream stream = _reader.GetRecordBatchReader([], selection.Leaves);
        return selection.Order(stream.Schema);
    }

    /// <summary>A row group's batches of the selection; the caller disposes the stream and every batch.</summary>
    public IArrowArrayStream Read(int rowGroup, ParquetColumns.Selection selection) =>
        _reader.GetRecordBatchReader([rowGroup], selection.Leaves);

    /// <summary>
    /// Rethrows what a read of the file threw (the source unavailable, the file changed, the call cancelled) when the
    /// decoder failed because of it: that, not the decoder's wrapping of it, is what went wrong.
    /// </summary>
    public void ThrowIfReadFailed() => (_stream as EngineStream)?.ReadFailure?.Throw();

    public void Dispose()
    {
        _reader?.Dispose();
        _arrowProperties.Dispose();
        _readerProperties.Dispose();
        _stream.Dispose();
    }
}
