namespace Dora.Core.Protocol;

/// <summary>
/// Buffered reading of frames from a connection (a socket, or the TLS stream over one): one receive call usually
/// brings a whole small frame (or several), where reading header and payload separately would cost a system call each.
/// Large payloads skip the buffer: what is already buffered is copied, the rest is received straight into the
/// destination. Not thread-safe: one reader loop per connection.
/// </summary>
public sealed class ConnectionReader(Stream connection, int capacity)
{
    private readonly byte[] _buffer = new byte[capacity];
    private int _start;
    private int _end;

    /// <summary>The buffer's size: the largest span <see cref="Peek"/> can return.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>Bytes received but not consumed yet.</summary>
    public int Buffered => _end - _start;

    /// <summary>Makes at least <paramref name="count"/> bytes available to <see cref="Peek"/>; false when the peer closed first.</summary>
    public async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length);
        if (Buffered >= count)
        {
            return true;
        }

        if (_buffer.Length - _start < count)
        {
            // Move the partial frame to the front so the rest fits behind it.
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, Buffered);
            _end -= _start;
            _start = 0;
        }

        while (Buffered < count)
        {
            int received = await connection.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                return false;
            }

            _end += received;
        }

        return true;
    }

    /// <summary>The next <paramref name="count"/> buffered bytes (after <see cref="FillAsync"/> of at least that many).</summary>
    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    /// <summary>The next <paramref name="count"/> buffered bytes as memory, valid until the next fill or consume.</summary>
    public ReadOnlyMemory<byte> PeekMemory(int count) => _buffer.AsMemory(_start, count);

    /// <summary>Drops <paramref name="count"/> buffered bytes.</summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Buffered);
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Fills <paramref name="destination"/> with the next bytes: buffered ones first, then straight from the connection.</summary>
    public async ValueTask<bool> ReadIntoAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        int fromBuffer = Math.Min(Buffered, destination.Length);
        _buffer.AsSpan(_start, fromBuffer).CopyTo(destination.Span);
        Consume(fromBuffer);
        destination = destination[fromBuffer..];
        while (!destination.IsEmpty)
        {
            int received = await connection.ReadAsync(destination, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                return false;
            }

            destination = destination[received..];
        }

        return true;
    }

    /// <summary>Reads and drops <paramref name="count"/> bytes.</summary>
    public async ValueTask<bool> SkipAsync(long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (Buffered == 0 && !await FillAsync(1, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            int chunk = (int)Math.Min(count, Buffered);
            Consume(chunk);
            count -= chunk;
        }

        return true;
    }
}
