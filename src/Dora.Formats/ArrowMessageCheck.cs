using System.Buffers.Binary;

namespace Dora.Formats;

/// <summary>
/// Checks an Arrow IPC record batch or dictionary batch message before it is passed on unread: every buffer it
/// declares must lie inside its body. A damaged file is then refused by the server, naming it, instead of reaching a
/// client as a message its decoder cannot read. (Message: field 1 header type, 2 header, 3 body length; RecordBatch:
/// 2 buffers, 16-byte structs of offset and length; DictionaryBatch: 1 its RecordBatch.)
/// </summary>
public static class ArrowMessageCheck
{
    private const byte DictionaryBatch = 2;
    private const byte RecordBatch = 3;

    /// <summary>
    /// Checks the bytes of one block of the file (a prefixed message, then its body) and returns where its metadata
    /// flatbuffer lies in them: the prefix (an optional 0xFFFFFFFF continuation, then the length) must fit the block's
    /// metadata, and the message must be a batch whose buffers lie inside its body.
    /// </summary>
    /// <exception cref="FileLayoutException">The block is damaged; the message names the file and the byte.</exception>
    public static (int Start, int Length) Block(ReadOnlySpan<byte> bytes, ArrowFileLayout.Block block, string path)
    {
        if (bytes.Length < 8 || block.MetadataLength < 8 || block.MetadataLength > bytes.Length)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow message at byte {block.Offset}: too short for its prefix");
        }

        int first = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        (int start, int length) = first == -1 ? (8, BinaryPrimitives.ReadInt32LittleEndian(bytes[4..])) : (4, first);
        if (length < 0 || length > block.MetadataLength - start)
        {
            throw new FileLayoutException($"'{path}' has a damaged Arrow message at byte {block.Offset}: its metadata ({length} bytes) is longer than its block");
        }

        Batch(bytes.Slice(start, length), block.BodyLength, path, block.Offset);
        return (start, length);
    }

    /// <exception cref="FileLayoutException">The message is not a batch, or declares buffers outside its body.</exception>
    public static void Batch(ReadOnlySpan<byte> metadata, long bodyLength, string path, long offset)
    {
        try
        {
            FlatTable message = FlatTable.Root(metadata);
            byte type = message.GetByte(1);
            if (type is not (RecordBatch or DictionaryBatch))
            {
                throw new FileLayoutException($"'{path}' has a message of type {type} where a record batch should be, at byte {offset}");
            }

            bool found = message.TryGetTable(2, out FlatTable batch);
            if (found && type == DictionaryBatch)
            {
                found = batch.TryGetTable(1, out batch);
            }

            if (!found)
            {
                throw new FileLayoutException($"'{path}' has a record batch without its header at byte {offset}");
            }

            (int start, int count) = batch.GetVector(2);
            if (count < 0 || start < 0 || count > (metadata.Length - start) / 16)
            {
                throw new FileLayoutException($"'{path}' has a record batch at byte {offset} that claims {count} buffers");
            }

            for (int i = 0; i < count; i++)
            {
                long bufferOffset = BinaryPrimitives.ReadInt64LittleEndian(metadata[(start + (i * 16))..]);
                long bufferLength = BinaryPrimitives.ReadInt64LittleEndian(metadata[(start + (i * 16) + 8)..]);
                if (bufferOffset < 0 || bufferLength < 0 || bufferOffset > bodyLength || bufferLength > bodyLength - bufferOffset)
                {
                    throw new FileLayoutException($"'{path}' has a record batch at byte {offset} whose buffer {i} ({bufferOffset}+{bufferLength}) lies outside its {bodyLength}-byte body");
                }
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            throw new FileLayoutException($"'{path}' has a damaged record batch message at byte {offset}");
        }
    }
}
