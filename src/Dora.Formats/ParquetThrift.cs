using static Dora.Formats.ThriftType;

namespace Dora.Formats;

/// <summary>
/// The structs of the Parquet format's Thrift definition (parquet-format's <c>parquet.thrift</c>) that a footer and a page
/// header hold, with the type of every field. Parquet.Net reads a field by its id alone, whatever type the bytes say it
/// has; checking each known field's type first keeps its reading and <see cref="ThriftCompactCheck"/>'s the same walk.
/// </summary>
public static class ParquetThrift
{
    private static readonly ThriftStruct Empty = new("empty");

    private static readonly ThriftStruct Statistics = new ThriftStruct("Statistics")
        .With(1, Binary).With(2, Binary).With(3, I64).With(4, I64).With(5, Binary).With(6, Binary).With(7, BoolTrue).With(8, BoolTrue);

    private static readonly ThriftStruct TimeUnit = new ThriftStruct("TimeUnit").With(1, Empty).With(2, Empty).With(3, Empty);

    private static readonly ThriftStruct LogicalType = new ThriftStruct("LogicalType")
        .With(1, Empty).With(2, Empty).With(3, Empty).With(4, Empty)
        .With(5, new ThriftStruct("DecimalType").With(1, I32).With(2, I32))
        .With(6, Empty)
        .With(7, new ThriftStruct("TimeType").With(1, BoolTrue).With(2, TimeUnit))
        .With(8, new ThriftStruct("TimestampType").With(1, BoolTrue).With(2, TimeUnit))
        .With(10, new ThriftStruct("IntType").With(1, ThriftType.Byte).With(2, BoolTrue))
        .With(11, Empty).With(12, Empty).With(13, Empty).With(14, Empty).With(15, Empty)
        .With(16, new ThriftStruct("VariantType").With(1, ThriftType.Byte))
        .With(17, new ThriftStruct("GeometryType").With(1, Binary))
        .With(18, new ThriftStruct("GeographyType").With(1, Binary).With(2, I32));

    private static readonly ThriftStruct SchemaElement = new ThriftStruct("SchemaElement")
        .With(1, I32).With(2, I32).With(3, I32).With(4, Binary).With(5, I32).With(6, I32).With(7, I32).With(8, I32).With(9, I32)
        .With(10, LogicalType);

    private static readonly ThriftStruct KeyValue = new ThriftStruct("KeyValue").With(1, Binary).With(2, Binary);

    private static readonly ThriftStruct ColumnMetaData = new ThriftStruct("ColumnMetaData")
        .With(1, I32).ListOf(2, I32).ListOf(3, Binary).With(4, I32).With(5, I64).With(6, I64).With(7, I64)
        .ListOf(8, KeyValue).With(9, I64).With(10, I64).With(11, I64).With(12, Statistics)
        .ListOf(13, new ThriftStruct("PageEncodingStats").With(1, I32).With(2, I32).With(3, I32))
        .With(14, I64).With(15, I32)
        .With(16, new ThriftStruct("SizeStatistics").With(1, I64).ListOf(2, I64).ListOf(3, I64))
        .With(17, new ThriftStruct("GeospatialStatistics")
            .With(1, new ThriftStruct("BoundingBox").With(1, ThriftType.EightByteFloat).With(2, ThriftType.EightByteFloat).With(3, ThriftType.EightByteFloat)
                .With(4, ThriftType.EightByteFloat).With(5, ThriftType.EightByteFloat).With(6, ThriftType.EightByteFloat).With(7, ThriftType.EightByteFloat).With(8, ThriftType.EightByteFloat))
            .ListOf(2, I32));

    private static readonly ThriftStruct ColumnChunk = new ThriftStruct("ColumnChunk")
        .With(1, Binary).With(2, I64).With(3, ColumnMetaData).With(4, I64).With(5, I32).With(6, I64).With(7, I32)
        .With(8, new ThriftStruct("ColumnCryptoMetaData")
            .With(1, Empty)
            .With(2, new ThriftStruct("EncryptionWithColumnKey").ListOf(1, Binary).With(2, Binary)))
        .With(9, Binary);

    private static readonly ThriftStruct RowGroup = new ThriftStruct("RowGroup")
        .ListOf(1, ColumnChunk).With(2, I64).With(3, I64)
        .ListOf(4, new ThriftStruct("SortingColumn").With(1, I32).With(2, BoolTrue).With(3, BoolTrue))
        .With(5, I64).With(6, I64).With(7, I16);

    private static readonly ThriftStruct AesGcm = new ThriftStruct("AesGcm").With(1, Binary).With(2, Binary).With(3, BoolTrue);

    /// <summary>A file's footer.</summary>
    public static ThriftStruct FileMetaData { get; } = new ThriftStruct("FileMetaData")
        .With(1, I32).ListOf(2, SchemaElement).With(3, I64).ListOf(4, RowGroup).ListOf(5, KeyValue).With(6, Binary)
        .ListOf(7, new ThriftStruct("ColumnOrder").With(1, Empty))
        .With(8, new ThriftStruct("EncryptionAlgorithm").With(1, AesGcm).With(2, AesGcm))
        .With(9, Binary);

    /// <summary>The header in front of every page of a column chunk.</summary>
    public static ThriftStruct PageHeader { get; } = new ThriftStruct("PageHeader")
        .With(1, I32).With(2, I32).With(3, I32).With(4, I32)
        .With(5, new ThriftStruct("DataPageHeader").With(1, I32).With(2, I32).With(3, I32).With(4, I32).With(5, Statistics))
        .With(6, Empty)
        .With(7, new ThriftStruct("DictionaryPageHeader").With(1, I32).With(2, I32).With(3, BoolTrue))
        .With(8, new ThriftStruct("DataPageHeaderV2").With(1, I32).With(2, I32).With(3, I32).With(4, I32).With(5, I32).With(6, I32)
            .With(7, BoolTrue).With(8, Statistics));

    /// <summary>PageHeader's uncompressed_page_size and compressed_page_size fields.</summary>
    public const short UncompressedPageSize = 2;

    public const short CompressedPageSize = 3;
}
