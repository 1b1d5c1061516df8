namespace Dora.Formats;

/// <summary>
/// The parts every read-only, seekable view of a file shares: a length, a position, seeking, and refusals to write.
/// Subclasses supply the reads.
/// </summary>
public abstract class ReadOnlyFileStream(long length) : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => true;

    public sealed override bool CanWrite => false;

    public sealed override long Length => length;

    public sealed override long Position { get; set; }

    public sealed override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => length + offset,
    };

    public sealed override void Flush()
    {
    }

    public sealed override void SetLength(long value) => throw new NotSupportedException("This view of a file is read-only.");

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("This view of a file is read-only.");
}
