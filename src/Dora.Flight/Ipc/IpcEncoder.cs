using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace Dora.Flight.Ipc;

/// <summary>
/// Encodes record batches of one schema as IPC messages with Arrow's own stream writer, for batches Dora decodes
/// itself (Parquet row groups, Arrow batches too large to pass through). The messages point into a buffer reused by
/// the next <see cref="Encode"/>: send them before encoding again.
/// </summary>
/// <remarks>
/// Arrow's C# stream writer sends a stream's dictionaries with its first batch only. Decoded batches can bring new
/// dictionaries (each Parquet row group, or a column chunk that stopped dictionary-encoding, has its own), and a batch
/// whose indices were sent against an old dictionary would read as wrong values. So when any dictionary of a batch is
/// not the one last sent (other buffers), the encoder starts a fresh writer, whose first batch carries the new
/// dictionaries under the same ids: in an IPC stream a dictionary batch for an id already seen replaces it.
/// </remarks>
internal sealed class IpcEncoder : IDisposable
{
    private readonly MemoryStream _stream = new();
    private readonly Schema _schema;
    private ArrowStreamWriter _writer;
    private List<(nint Address, int Length)>? _sentDictionaries;

    public IpcEncoder(Schema schema)
    {
        _schema = schema;
        _writer = StartWriter();
        SchemaMessage = IpcMessage.Split(_stream.ToArray())[0];
    }

    /// <summary>The schema message: FlightData's first message.</summary>
    public IpcMessage SchemaMessage { get; }

    /// <summary>The messages of one batch: any dictionary batches it needs, then the record batch.</summary>
    public List<IpcMessage> Encode(RecordBatch batch)
    {
        List<(nint, int)>? dictionaries = DictionaryBuffers.Of(batch);
        if (_sentDictionaries is not null && dictionaries is not null && !dictionaries.SequenceEqual(_sentDictionaries))
        {
            _writer.Dispose();
            _writer = StartWriter();
        }

        _sentDictionaries = dictionaries;
        _stream.SetLength(0);
        _writer.WriteRecordBatch(batch);
        return IpcMessage.Split(_stream.GetBuffer().AsMemory(0, (int)_stream.Length));
    }

    private ArrowStreamWriter StartWriter()
    {
        _stream.SetLength(0);
        var writer = new ArrowStreamWriter(_stream, _schema, leaveOpen: true);
        writer.WriteStart();
        return writer;
    }

    /// <summary>A schema in the encapsulated form FlightInfo.schema and SchemaResult carry.</summary>
    public static byte[] EncapsulatedSchema(Schema schema)
    {
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
        }

        return stream.ToArray();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _stream.Dispose();
    }
}
