using Apache.Arrow.Ipc;
using Dora.Flight.Ipc;
using Dora.Formats;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>
/// An Arrow IPC file read through the cache. Its layout (from the footer) says where each dictionary and record batch
/// message lies, so a batch is served as the file holds it: the message's flatbuffer and body go out unchanged,
/// without decoding or re-encoding.
/// </summary>
internal sealed class ArrowIpcFile
{
    private readonly StorageEngine _engine;

    private ArrowIpcFile(StorageEngine engine, OpenedFile file, ArrowFileLayout layout)
    {
        _engine = engine;
        File = file;
        Layout = layout;
    }

    public OpenedFile File { get; }

    public ArrowFileLayout Layout { get; }

    /// <summary>The schema message's flatbuffer: a DoGet stream's first message.</summary>
    public IpcMessage SchemaMessage
    {
        get
        {
            (int start, int length) = IpcMessage.Prefix(Layout.EncapsulatedSchema, 0);
            return new IpcMessage(Layout.EncapsulatedSchema.AsMemory(start, length), ReadOnlyMemory<byte>.Empty);
        }
    }

    /// <summary>True when the file starts and ends with the Arrow IPC file magic.</summary>
    public static Task<bool> IsArrowFileAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken) =>
        ArrowFileLayout.IsArrowFileAsync(EngineReads.ReaderOf(engine, file), file.Length, cancellationToken);

    /// <summary>Arrow IPC batches go out as stored, whole: a ticket that selects columns cannot be served.</summary>
    /// <exception cref="TicketException">The ticket names columns.</exception>
    public static void RefuseColumns(OpenedFile file, DoraTicket ticket)
    {
        if (ticket.Columns is not null)
        {
            throw new TicketException($"'{file.Path}' is an Arrow IPC file: its batches are served whole, without \"columns\"");
        }
    }

    /// <summary>Reads the file's footer and schema message.</summary>
    /// <exception cref="FileLayoutException">The footer or its schema is damaged.</exception>
    public static async Task<ArrowIpcFile> OpenAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        ArrowFileLayout layout = await ArrowFileLayout.ReadAsync(EngineReads.ReaderOf(engine, file), file.Length, file.Path.Value, cancellationToken).ConfigureAwait(false);
        CheckSchema(layout);
        return new ArrowIpcFile(engine, file, layout);
    }

    /// <summary>
    /// The schema goes to clients as the file has it; it must be one Arrow can read (field types, children,
    /// dictionaries), or every client would fail on the stream's first message instead of getting the file's problem.
    /// </summary>
    private static void CheckSchema(ArrowFileLayout layout)
    {
        // The schema message, then the end-of-stream marker (0xFFFFFFFF, then a zero length).
        byte[] stream = new byte[layout.EncapsulatedSchema.Length + 8];
        layout.EncapsulatedSchema.CopyTo(stream, 0);
        stream.AsSpan(layout.EncapsulatedSchema.Length, 4).Fill(0xFF);
        try
        {
            using var reader = new ArrowStreamReader(new MemoryStream(stream, writable: false));
            _ = reader.Schema;
        }
        catch (Exception e) when (DecodeFailures.IsDamage(e))
        {
            throw DecodeFailures.Describe($"the schema in the footer of '{layout.Path}'", e);
        }
    }

    /// <summary>Reads a block into <paramref name="buffer"/> (at least its length) and returns its message over that buffer.</summary>
    public async Task<IpcMessage> ReadMessageAsync(ArrowFileLayout.Block block, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Memory<byte> bytes = buffer[..checked((int)block.Length)];
        await _engine.ReadExactlyAsync(File, block.Offset, bytes, cancellationToken).ConfigureAwait(false);
        (int start, int length) = ArrowMessageCheck.Block(bytes.Span, block, File.Path.Value);
        return new IpcMessage(bytes.Slice(start, length), bytes.Slice(block.MetadataLength, (int)block.BodyLength));
    }

    /// <summary>Arrow's own reader over the file, for batches that must be re-encoded; the caller disposes it.</summary>
    public ArrowFileReader OpenReader(CancellationToken cancellationToken) => new(new EngineStream(_engine, File, cancellationToken), leaveOpen: false);
}
