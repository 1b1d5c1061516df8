namespace Dora.Formats;

/// <summary>
/// A read-only stream of a file's length where only some byte ranges are present (those a parse needs); reading any
/// other byte, or past the end, throws <see cref="IOException"/>.
/// </summary>
public sealed class SparseFileStream(long length, params (long Offset, byte[] Bytes)[] segments) : ReadOnlyFileStream(length)
{
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        // A parse never needs to read past a file's end; one that does is walking damaged bytes, and a parser that takes
        // a failed read for a 0xFF byte (Parquet.Net's varints) would spin there forever.
        if (Position >= Length)
        {
            throw new IOException($"the parse read at {Position}, past the file's end ({Length} bytes)");
        }

        foreach ((long start, byte[] bytes) in segments)
        {
            if (Position >= start && Position < start + bytes.Length)
            {
                int count = (int)Math.Min(buffer.Length, start + bytes.Length - Position);
                bytes.AsSpan((int)(Position - start), count).CopyTo(buffer);
                Position += count;
                return count;
            }
        }

        throw new IOException($"the parse read at {Position}, outside the bytes fetched for it");
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));
}
