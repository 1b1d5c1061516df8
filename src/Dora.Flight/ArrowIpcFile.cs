using System.Buffers.Binary;
using Apache.Arrow.Ipc;
using Dora.Flight.Ipc;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>
/// An Arrow IPC file (<c>ARROW1</c> magic) read through the cache. Its footer lists where each dictionary and record
/// batch message lies (a block: offset, metadata length, body length), so a batch is served as the file holds it:
/// the message's flatbuffer and body go out unchanged, without decoding or re-encoding.
/// </summary>
internal sealed class ArrowIpcFile
{
    /// <summary>Where one IPC message lies in the file: its prefixed metadata, then its body.</summary>
    public readonly record struct Block(long Offset, int MetadataLength, long BodyLength)
    {
        public long Length => MetadataLength + BodyLength;
    }

    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    /// <summary>Largest IPC footer read: 64 MiB.</summary>
    private const int MaxFooterBytes = 64 << 20;

    /// <summary>The file's own bytes of its schema message start right after the 8-byte magic and padding.</summary>
    private const int SchemaOffset = 8;

    private readonly StorageEngine _engine;

    private ArrowIpcFile(StorageEngine engine, OpenedFile file, Block[] dictionaries, Block[] batches, byte[] schema)
    {
        _engine = engine;
        File = file;
        Dictionaries = dictionaries;
        Batches = batches;
        EncapsulatedSchema = schema;
    }

    public OpenedFile File { get; }

    public IReadOnlyList<Block> Dictionaries { get; }

    public IReadOnlyList<Block> Batches { get; }

    /// <summary>The schema message as the file stores it (prefix and flatbuffer): what FlightInfo.schema carries.</summary>
    public byte[] EncapsulatedSchema { get; }

    /// <summary>The schema message's flatbuffer: a DoGet stream's first message.</summary>
    public IpcMessage SchemaMessage
    {
        get
        {
            (int start, int length) = IpcMessage.Prefix(EncapsulatedSchema, 0);
            return new IpcMessage(EncapsulatedSchema.AsMemory(start, length), ReadOnlyMemory<byte>.Empty);
        }
    }

    private string Path => File.Path.Value;

    /// <summary>True when the file starts and ends with the Arrow IPC file magic.</summary>
    public static async Task<bool> IsArrowFileAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        if (file.Length < 18)
        {
            return false;
        }

        byte[] head = new byte[6];
        byte[] tail = new byte[6];
        await engine.ReadExactlyAsync(file, 0, head, cancellationToken).ConfigureAwait(false);
        await engine.ReadExactlyAsync(file, file.Length - 6, tail, cancellationToken).ConfigureAwait(false);
        return head.AsSpan().SequenceEqual(Magic) && tail.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>
    /// Reads the footer (the Arrow File format's flatbuffer <c>Footer</c>: field 2 the dictionary blocks, field 3 the
    /// record batch blocks) and the schema message it starts with.
    /// </summary>
    public static async Task<ArrowIpcFile> OpenAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        string path = file.Path.Value;
        byte[] trailer = new byte[10];
        await engine.ReadExactlyAsync(file, file.Length - 10, trailer, cancellationToken).ConfigureAwait(false);
        int footerLength = BinaryPrimitives.ReadInt32LittleEndian(trailer);
        if (footerLength <= 0 || footerLength > MaxFooterBytes || footerLength > file.Length - 18)
        {
            throw new TicketException($"'{path}' has a damaged Arrow footer (length {footerLength})");
        }

        byte[] footer = new byte[footerLength];
        await engine.ReadExactlyAsync(file, file.Length - 10 - footerLength, footer, cancellationToken).ConfigureAwait(false);
        Block[] dictionaries;
        Block[] batches;
        try
        {
            dictionaries = ReadBlocks(footer, 2, file.Length, path);
            batches = ReadBlocks(footer, 3, file.Length, path);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new TicketException($"'{path}' has a damaged Arrow footer");
        }

        byte[] prefix = new byte[8];
        await engine.ReadExactlyAsync(file, SchemaOffset, prefix, cancellationToken).ConfigureAwait(false);
        int schemaLength = BinaryPrimitives.ReadInt32LittleEndian(prefix) == -1 ? 8 + BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(4)) : 4 + BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (schemaLength <= 8 || schemaLength > MaxFooterBytes || SchemaOffset + schemaLength > file.Length)
        {
            throw new TicketException($"'{path}' has a damaged Arrow schema message");
        }

        byte[] schema = new byte[schemaLength];
        await engine.ReadExactlyAsync(file, SchemaOffset, schema, cancellationToken).ConfigureAwait(false);
        return new ArrowIpcFile(engine, file, dictionaries, batches, schema);
    }

    private static Block[] ReadBlocks(ReadOnlySpan<byte> footer, int field, long fileLength, string path)
    {
        (int start, int count) = FlatTable.Root(footer).GetVector(field);
        var blocks = new Block[count];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> entry = footer.Slice(start + (i * 24), 24);
            var block = new Block(BinaryPrimitives.ReadInt64LittleEndian(entry), BinaryPrimitives.ReadInt32LittleEndian(entry[8..]), BinaryPrimitives.ReadInt64LittleEndian(entry[16..]));
            if (block.Offset < SchemaOffset || block.MetadataLength <= 0 || block.BodyLength < 0 || block.Offset + block.Length > fileLength)
            {
                throw new TicketException($"'{path}' has a damaged Arrow footer: block {i} lies outside the file");
            }

            blocks[i] = block;
        }

        return blocks;
    }

    /// <summary>Batch <paramref name="index"/>'s block, or an error naming how many batches there are.</summary>
    public Block Batch(int index) =>
        index >= 0 && index < Batches.Count
            ? Batches[index]
            : throw new TicketException($"'{Path}' has {Batches.Count} record batches; batch {index} does not exist");

    /// <summary>Reads a block into <paramref name="buffer"/> (at least its length) and returns its message over that buffer.</summary>
    public async Task<IpcMessage> ReadMessageAsync(Block block, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Memory<byte> bytes = buffer[..checked((int)block.Length)];
        await _engine.ReadExactlyAsync(File, block.Offset, bytes, cancellationToken).ConfigureAwait(false);
        try
        {
            (int start, int length) = IpcMessage.Prefix(bytes.Span, 0);
            if (start + length > block.MetadataLength)
            {
                throw new InvalidDataException("its metadata is longer than its block");
            }

            return new IpcMessage(bytes.Slice(start, length), bytes.Slice(block.MetadataLength, (int)block.BodyLength));
        }
        catch (InvalidDataException e)
        {
            throw new TicketException($"'{Path}' has a damaged Arrow message at byte {block.Offset}: {e.Message}");
        }
    }

    /// <summary>Arrow's own reader over the file, for batches that must be re-encoded; the caller disposes it.</summary>
    public ArrowFileReader OpenReader() => new(new EngineStream(_engine, File), leaveOpen: false);

    /// <summary>A seekable read-only stream whose reads are positioned reads through the storage engine.</summary>
    private sealed class EngineStream(StorageEngine engine, OpenedFile file) : ReadOnlyFileStream(file.Length)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= file.Length)
            {
                return 0;
            }

            int read = await engine.ReadAsync(file, Position, buffer[..(int)Math.Min(buffer.Length, file.Length - Position)], cancellationToken).ConfigureAwait(false);
            Position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) =>
            throw new NotSupportedException("Arrow IPC files are read asynchronously through the cache.");
    }
}
