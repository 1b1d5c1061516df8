using Apache.Arrow;
using Apache.Arrow.Types;
using Parquet;
using Parquet.Schema;

namespace Dora.Flight;

/// <summary>
/// Decodes Parquet row groups into Arrow record batches for <c>batches</c> tickets: flat columns of the common types
/// (integers, floating point, booleans, strings, binary, timestamps, dates), nulls kept; each batch small enough for
/// one 4 MiB Flight message.
/// </summary>
internal static class ParquetBatches
{
    private static readonly TimestampType Timestamp = new(TimeUnit.Microsecond, "UTC");

    /// <summary>The Arrow schema of <paramref name="fields"/>; a nested or unsupported column is an error naming it.</summary>
    public static Schema SchemaFor(IReadOnlyList<DataField> fields, string path)
    {
        var builder = new Schema.Builder();
        foreach (DataField field in fields)
        {
            builder.Field(new Apache.Arrow.Field(field.Name, ArrowType(field, path), field.IsNullable));
        }

        return builder.Build();
    }

    /// <summary>The flat columns of the file, or those named, in file order.</summary>
    public static DataField[] Select(ParquetSchema schema, IReadOnlyList<string>? columns, string path)
    {
        DataField[] all = schema.GetDataFields();
        if (columns is null)
        {
            return all;
        }

        var selected = new List<DataField>();
        foreach (string name in columns)
        {
            DataField field = System.Array.Find(all, f => f.Path.ToString() == name || f.Name == name)
                ?? throw new TicketException($"'{path}' has no column '{name}'; its columns are: {string.Join(", ", all.Select(f => f.Name))}");
            selected.Add(field);
        }

        return [.. selected];
    }

    private static IArrowType ArrowType(DataField field, string path)
    {
        if (field.IsArray || field.MaxRepetitionLevel > 0 || field.Path.Length > 1)
        {
            throw new TicketException($"column '{field.Path}' of '{path}' is nested or repeated; read it with chunk tickets");
        }

        if (field is TimeDataField time)
        {
            return TimeOfDayType(time);
        }

        Type type = field.ClrType;
        return type == typeof(long) ? Int64Type.Default
            : type == typeof(int) ? Int32Type.Default
            : type == typeof(short) ? Int16Type.Default
            : type == typeof(sbyte) ? Int8Type.Default
            : type == typeof(byte) ? UInt8Type.Default
            : type == typeof(ulong) ? UInt64Type.Default
            : type == typeof(uint) ? UInt32Type.Default
            : type == typeof(double) ? DoubleType.Default
            : type == typeof(float) ? FloatType.Default
            : type == typeof(bool) ? BooleanType.Default
            : type == typeof(string) || type == typeof(ReadOnlyMemory<char>) ? StringType.Default
            : type == typeof(byte[]) ? BinaryType.Default
            : type == typeof(DateTime) ? Timestamp
            : type == typeof(DateOnly) ? Date32Type.Default
            : type == typeof(decimal) ? DecimalType(field)
            : throw new TicketException($"column '{field.Name}' of '{path}' has type {type.Name}, which batches tickets do not decode yet; read it with chunk tickets");
    }

    /// <summary>A decimal column's Arrow type: its declared precision and scale (Parquet.Net's 38, 18 when it declares none).</summary>
    private static Decimal128Type DecimalType(DataField field) => field is DecimalDataField declared
        ? new Decimal128Type(declared.Precision, declared.Scale)
        : new Decimal128Type(38, 18);

    /// <summary>The row groups a ticket names (all when it names none), each checked to exist.</summary>
    public static IReadOnlyList<int> RowGroups(Parquet.Meta.FileMetaData metadata, IReadOnlyList<int>? chosen, string path)
    {
        int groups = metadata.RowGroups.Count;
        foreach (int rowGroup in chosen ?? [])
        {
            if (rowGroup < 0 || rowGroup >= groups)
            {
                throw new TicketException($"'{path}' has {groups} row groups; rowGroup {rowGroup} does not exist");
            }
        }

        return chosen ?? [.. Enumerable.Range(0, groups)];
    }

    /// <summary>Decodes one row group's <paramref name="fields"/> and returns it as batches of at most about <paramref name="maxBatchBytes"/>.</summary>
    public static async Task<List<RecordBatch>> ReadRowGroupAsync(ParquetReader reader, int rowGroup, DataField[] fields, Schema schema, int maxBatchBytes, CancellationToken cancellationToken)
    {
        using ParquetRowGroupReader group = reader.OpenRowGroupReader(rowGroup);
        int rows = checked((int)group.RowCount);
        var columns = new Func<int, int, IArrowArray>[fields.Length];
        long rowBytes = 1;
        for (int c = 0; c < fields.Length; c++)
        {
            (columns[c], long bytes) = await ReadColumnAsync(group, fields[c], rows, cancellationToken).ConfigureAwait(false);
            rowBytes += rows == 0 ? 0 : (bytes / rows) + 1;
        }

        int perBatch = (int)Math.Clamp(maxBatchBytes / rowBytes, 1, Math.Max(1, rows));
        var batches = new List<RecordBatch>();
        for (int start = 0; start < rows || (rows == 0 && batches.Count == 0); start += perBatch)
        {
            int count = Math.Min(perBatch, rows - start);
            var arrays = new IArrowArray[fields.Length];
            for (int c = 0; c < fields.Length; c++)
            {
                arrays[c] = columns[c](start, count);
            }

            batches.Add(new RecordBatch(schema, arrays, count));
            if (rows == 0)
            {
                break;
            }
        }

        return batches;
    }

    /// <summary>Reads a column and returns a slice builder and the column's approximate size in bytes.</summary>
    private static async Task<(Func<int, int, IArrowArray> Slice, long Bytes)> ReadColumnAsync(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        if (field is TimeDataField time)
        {
            return await TimesOfDay(group, time, rows, cancellationToken).ConfigureAwait(false);
        }

        Type type = field.ClrType;
        // Parquet.Net describes string columns read from a file as ReadOnlyMemory<char>; both read as strings.
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var values = new string?[rows];
            await group.ReadAsync(field, values.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            long bytes = values.Sum(v => (long)(v?.Length ?? 0));
            return ((start, count) =>
            {
                var builder = new StringArray.Builder();
                for (int i = start; i < start + count; i++)
                {
                    if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
                }

                return builder.Build();
            }, bytes);
        }

        if (type == typeof(byte[]))
        {
            var values = new byte[]?[rows];
            await group.ReadAsync(field, values.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            long bytes = values.Sum(v => (long)(v?.Length ?? 0));
            return ((start, count) =>
            {
                var builder = new BinaryArray.Builder();
                for (int i = start; i < start + count; i++)
                {
                    if (values[i] is { } value) { builder.Append(value.AsSpan()); } else { builder.AppendNull(); }
                }

                return builder.Build();
            }, bytes);
        }

        return type == typeof(long) ? await Primitive<long, Int64Array, Int64Array.Builder>(group, field, rows, () => new Int64Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(int) ? await Primitive<int, Int32Array, Int32Array.Builder>(group, field, rows, () => new Int32Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(short) ? await Primitive<short, Int16Array, Int16Array.Builder>(group, field, rows, () => new Int16Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(sbyte) ? await Primitive<sbyte, Int8Array, Int8Array.Builder>(group, field, rows, () => new Int8Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(byte) ? await Primitive<byte, UInt8Array, UInt8Array.Builder>(group, field, rows, () => new UInt8Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(ulong) ? await Primitive<ulong, UInt64Array, UInt64Array.Builder>(group, field, rows, () => new UInt64Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(uint) ? await Primitive<uint, UInt32Array, UInt32Array.Builder>(group, field, rows, () => new UInt32Array.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(double) ? await Primitive<double, DoubleArray, DoubleArray.Builder>(group, field, rows, () => new DoubleArray.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(float) ? await Primitive<float, FloatArray, FloatArray.Builder>(group, field, rows, () => new FloatArray.Builder(), cancellationToken).ConfigureAwait(false)
            : type == typeof(bool) ? await Booleans(group, field, rows, cancellationToken).ConfigureAwait(false)
            : type == typeof(DateTime) ? await Timestamps(group, field, rows, cancellationToken).ConfigureAwait(false)
            : type == typeof(DateOnly) ? await Dates(group, field, rows, cancellationToken).ConfigureAwait(false)
            : type == typeof(decimal) ? await Decimals(group, field, rows, cancellationToken).ConfigureAwait(false)
            : throw new TicketException($"column '{field.Name}' has type {type.Name}, which batches tickets do not decode yet");
    }

    private static async Task<T?[]> ReadNullableAsync<T>(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[rows];
        if (field.IsNullable)
        {
            await group.ReadAsync<T>(field, values.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            return values;
        }

        var dense = new T[rows];
        await group.ReadAsync<T>(field, dense.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < rows; i++)
        {
            values[i] = dense[i];
        }

        return values;
    }

    private static async Task<(Func<int, int, IArrowArray>, long)> Primitive<T, TArray, TBuilder>(ParquetRowGroupReader group, DataField field, int rows, Func<TBuilder> create, CancellationToken cancellationToken)
        where T : struct, IEquatable<T>
        where TArray : IArrowArray
        where TBuilder : PrimitiveArrayBuilder<T, TArray, TBuilder>
    {
        T?[] values = await ReadNullableAsync<T>(group, field, rows, cancellationToken).ConfigureAwait(false);
        return ((start, count) =>
        {
            TBuilder builder = create();
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
            }

            return builder.Build(default);
        }, (long)rows * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
    }

    private static async Task<(Func<int, int, IArrowArray>, long)> Booleans(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        bool?[] values = await ReadNullableAsync<bool>(group, field, rows, cancellationToken).ConfigureAwait(false);
        return ((start, count) =>
        {
            var builder = new BooleanArray.Builder();
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
            }

            return builder.Build();
        }, rows);
    }

    private static async Task<(Func<int, int, IArrowArray>, long)> Timestamps(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        DateTime?[] values = await ReadNullableAsync<DateTime>(group, field, rows, cancellationToken).ConfigureAwait(false);
        return ((start, count) =>
        {
            var builder = new TimestampArray.Builder(Timestamp);
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc))); } else { builder.AppendNull(); }
            }

            return builder.Build();
        }, rows * 8L);
    }

    /// <summary>
    /// A time-of-day column (Parquet TIME, which Parquet.Net reads as its raw count since midnight): <c>time32[ms]</c>,
    /// <c>time64[us]</c> or <c>time64[ns]</c> as the column's unit says; the values pass through unchanged.
    /// </summary>
    private static IArrowType TimeOfDayType(TimeDataField field) => field.Precision switch
    {
        TimeUnitPrecision.Millis => new Time32Type(TimeUnit.Millisecond),
        TimeUnitPrecision.Micros => new Time64Type(TimeUnit.Microsecond),
        _ => new Time64Type(TimeUnit.Nanosecond),
    };

    private static async Task<(Func<int, int, IArrowArray>, long)> TimesOfDay(ParquetRowGroupReader group, TimeDataField field, int rows, CancellationToken cancellationToken)
    {
        IArrowType type = TimeOfDayType(field);
        if (type is Time32Type time32)
        {
            int?[] millis = await ReadNullableAsync<int>(group, field, rows, cancellationToken).ConfigureAwait(false);
            return ((start, count) =>
            {
                var builder = new Time32Array.Builder(time32);
                for (int i = start; i < start + count; i++)
                {
                    if (millis[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
                }

                return builder.Build();
            }, rows * 4L);
        }

        long?[] values = await ReadNullableAsync<long>(group, field, rows, cancellationToken).ConfigureAwait(false);
        return ((start, count) =>
        {
            var builder = new Time64Array.Builder((Time64Type)type);
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
            }

            return builder.Build();
        }, rows * 8L);
    }

    private static async Task<(Func<int, int, IArrowArray>, long)> Decimals(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        decimal?[] values = await ReadNullableAsync<decimal>(group, field, rows, cancellationToken).ConfigureAwait(false);
        Decimal128Type type = DecimalType(field);
        return ((start, count) =>
        {
            var builder = new Decimal128Array.Builder(type);
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
            }

            return builder.Build();
        }, rows * 16L);
    }

    private static async Task<(Func<int, int, IArrowArray>, long)> Dates(ParquetRowGroupReader group, DataField field, int rows, CancellationToken cancellationToken)
    {
        DateOnly?[] values = await ReadNullableAsync<DateOnly>(group, field, rows, cancellationToken).ConfigureAwait(false);
        return ((start, count) =>
        {
            var builder = new Date32Array.Builder();
            for (int i = start; i < start + count; i++)
            {
                if (values[i] is { } value) { builder.Append(value); } else { builder.AppendNull(); }
            }

            return builder.Build();
        }, rows * 4L);
    }
}
