using Apache.Arrow;
using ParquetSharp.Arrow;

namespace Dora.Flight.Columnar;

/// <summary>
/// A Parquet file's columns by the names pyarrow gives them: a top-level field (<c>trip</c>, all of its nested leaves),
/// or a nested field by its dotted path (<c>trip.fare</c>: the top-level field with only that child), resolved to the
/// leaf columns Arrow's reader takes.
/// </summary>
internal sealed class ParquetColumns
{
    private readonly Dictionary<string, (string TopLevel, int[] Leaves)> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _topLevel = [];
    private readonly string _path;

    public ParquetColumns(SchemaManifest manifest, string path)
    {
        _path = path;
        foreach (SchemaField field in manifest.SchemaFields)
        {
            _topLevel.Add(field.Field.Name);
            LeafCount += Index(field, field.Field.Name, field.Field.Name).Length;
        }
    }

    /// <summary>The file's leaf columns: the Parquet columns that hold values.</summary>
    public int LeafCount { get; }

    /// <summary>What a ticket selected: the leaf columns to read and the order of the top-level fields to send.</summary>
    public sealed class Selection
    {
        private readonly string[]? _order;

        internal Selection(int[]? leaves, string[]? order)
        {
            Leaves = leaves;
            _order = order;
        }

        /// <summary>Leaf column indices for Arrow's reader; null for every column.</summary>
        public int[]? Leaves { get; }

        /// <summary>The schema with its top-level fields in the order the ticket named them.</summary>
        public Schema Order(Schema schema)
        {
            if (_order is null)
            {
                return schema;
            }

            var builder = new Schema.Builder();
            foreach (int index in Positions(schema))
            {
                builder.Field(schema.FieldsList[index]);
            }

            if (schema.Metadata is { } metadata)
            {
                builder.Metadata(metadata);
            }

            return builder.Build();
        }

        /// <summary>
        /// A batch on <paramref name="ordered"/> (the schema sent first, whose field objects Arrow's stream writer
        /// keys dictionaries by), its columns in the order the ticket named them. The arrays are shared, not copied:
        /// dispose the batch that was read, not this one.
        /// </summary>
        public RecordBatch Order(RecordBatch batch, Schema ordered)
        {
            if (_order is null)
            {
                return new RecordBatch(ordered, batch.Arrays, batch.Length);
            }

            int[] positions = Positions(batch.Schema);
            var arrays = new IArrowArray[positions.Length];
            for (int i = 0; i < positions.Length; i++)
            {
                arrays[i] = batch.Column(positions[i]);
            }

            return new RecordBatch(ordered, arrays, batch.Length);
        }

        private int[] Positions(Schema schema) => [.. _order!.Select(name => schema.GetFieldIndex(name))];
    }

    /// <summary>Resolves a ticket's column names (null: all columns, in file order).</summary>
    /// <exception cref="TicketException">A name matches no column; the message lists the file's columns.</exception>
    public Selection Select(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return new Selection(null, null);
        }

        var leaves = new SortedSet<int>();
        var order = new List<string>();
        foreach (string name in names)
        {
            if (!_byName.TryGetValue(name, out var column))
            {
                throw new TicketException($"'{_path}' has no column '{name}'; its columns are: {string.Join(", ", _topLevel)}");
            }

            leaves.UnionWith(column.Leaves);
            if (!order.Contains(column.TopLevel))
            {
                order.Add(column.TopLevel);
            }
        }

        return new Selection([.. leaves], [.. order]);
    }

    /// <summary>Records a field and everything below it under its dotted name; returns its leaves.</summary>
    private int[] Index(SchemaField field, string name, string topLevel)
    {
        int[] leaves = field.ColumnIndex >= 0
            ? [field.ColumnIndex]
            : [.. field.Children.SelectMany(child => Index(child, $"{name}.{child.Field.Name}", topLevel))];
        _byName.TryAdd(name, (topLevel, leaves));
        return leaves;
    }
}
