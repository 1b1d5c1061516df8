using Apache.Arrow;
using Apache.Arrow.Ipc;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>
/// An Arrow IPC file (<c>ARROW1</c> magic) read through the cache: its schema and record batches, read with Arrow's
/// own file reader over a stream of positioned engine reads.
/// </summary>
internal static class ArrowIpcFile
{
    private static ReadOnlySpan<byte> Magic => "ARROW1"u8;

    /// <summary>True when the file starts and ends with the Arrow IPC file magic.</summary>
    public static async Task<bool> IsArrowFileAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        if (file.Length < 18)
        {
            return false;
        }

        byte[] head = new byte[6];
        byte[] tail = new byte[6];
        return await engine.ReadAsync(file, 0, head, cancellationToken).ConfigureAwait(false) == 6
            && await engine.ReadAsync(file, file.Length - 6, tail, cancellationToken).ConfigureAwait(false) == 6
            && head.AsSpan().SequenceEqual(Magic) && tail.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>Largest IPC footer read: 64 MiB.</summary>
    private const int MaxFooterBytes = 64 << 20;

    /// <summary>
    /// The byte range of record batch <paramref name="index"/>'s block (its message and body, as the file's footer
    /// lists them), for <c>chunk</c> tickets. The footer is the Arrow File format's flatbuffer <c>Footer</c> table,
    /// whose fourth field is the vector of record batch <c>Block</c> structs (offset, metadata length, body length).
    /// </summary>
    public static async Task<(long Offset, long Length)> BlockRangeAsync(StorageEngine engine, OpenedFile file, int index, CancellationToken cancellationToken)
    {
        string path = file.Path.Value;
        byte[] trailer = new byte[10];
        if (await engine.ReadAsync(file, file.Length - 10, trailer, cancellationToken).ConfigureAwait(false) != 10)
        {
            throw new TicketException($"'{path}' ended while reading its Arrow footer");
        }

        int footerLength = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(trailer);
        if (footerLength <= 0 || footerLength > MaxFooterBytes || footerLength > file.Length - 18)
        {
            throw new TicketException($"'{path}' has a damaged Arrow footer (length {footerLength})");
        }

        byte[] footer = new byte[footerLength];
        if (await engine.ReadAsync(file, file.Length - 10 - footerLength, footer, cancellationToken).ConfigureAwait(false) != footerLength)
        {
            throw new TicketException($"'{path}' ended while reading its Arrow footer");
        }

        try
        {
            ReadOnlySpan<byte> span = footer;
            int table = ReadInt(span, 0);
            int vtable = table - ReadInt(span, table);
            int vtableLength = ReadShort(span, vtable);
            const int RecordBatchesField = 3;
            int fieldSlot = 4 + (RecordBatchesField * 2);
            int fieldOffset = fieldSlot < vtableLength ? ReadShort(span, vtable + fieldSlot) : 0;
            int count = 0;
            int vector = 0;
            if (fieldOffset != 0)
            {
                vector = table + fieldOffset + ReadInt(span, table + fieldOffset);
                count = ReadInt(span, vector);
            }

            if (index < 0 || index >= count)
            {
                throw new TicketException($"'{path}' has {count} record batches; batch {index} does not exist");
            }

            int block = vector + 4 + (index * 24);
            long offset = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span[block..]);
            int metadataLength = ReadInt(span, block + 8);
            long bodyLength = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(span[(block + 16)..]);
            long length = metadataLength + bodyLength;
            if (offset < 8 || length <= 0 || offset + length > file.Length)
            {
                throw new TicketException($"'{path}' has a damaged Arrow footer: batch {index} lies outside the file");
            }

            return (offset, length);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new TicketException($"'{path}' has a damaged Arrow footer");
        }
    }

    private static int ReadInt(ReadOnlySpan<byte> span, int at) => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(span[at..]);

    private static int ReadShort(ReadOnlySpan<byte> span, int at) => System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(span[at..]);

    /// <summary>Opens the file's reader; the caller disposes it. The footer is read before this returns.</summary>
    public static async Task<(ArrowFileReader Reader, int Batches)> OpenAsync(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken)
    {
        var reader = new ArrowFileReader(new EngineStream(engine, file), leaveOpen: false);
        try
        {
            int batches = await reader.RecordBatchCountAsync().ConfigureAwait(false);
            return (reader, batches);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or InvalidOperationException)
        {
            reader.Dispose();
            throw new TicketException($"'{file.Path}' is not a readable Arrow IPC file: {e.Message}");
        }
    }

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
