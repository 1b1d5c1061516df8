using Apache.Arrow;
using Apache.Arrow.Ipc;

namespace Dora.Flight.Ipc;

/// <summary>
/// Encodes record batches of one schema as IPC messages with Arrow's own stream writer, for batches Dora decodes
/// itself (Parquet row groups, Arrow batches too large to pass through). The messages point into a buffer reused by
/// the next <see cref="Encode"/>: send them before encoding again.
/// </summary>
internal sealed class IpcEncoder : IDisposable
{
    private readonly MemoryStream _stream = new();
    private readonly ArrowStreamWriter _writer;

    public IpcEncoder(Schema schema)
    {
        _writer = new ArrowStreamWriter(_stream, schema, leaveOpen: true);
        _writer.WriteStart();
        SchemaMessage = IpcMessage.Split(_stream.ToArray())[0];
    }

    /// <summary>The schema message: FlightData's first message.</summary>
    public IpcMessage SchemaMessage { get; }

    /// <summary>The messages of one batch: any dictionary batches it needs, then the record batch.</summary>
    public List<IpcMessage> Encode(RecordBatch batch)
    {
        _stream.SetLength(0);
        _writer.WriteRecordBatch(batch);
        return IpcMessage.Split(_stream.GetBuffer().AsMemory(0, (int)_stream.Length));
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
