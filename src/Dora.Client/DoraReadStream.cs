using System.Buffers;

namespace Dora.Client;

/// <summary>
/// A seekable, read-only view of one file: reads are positioned reads through the <see cref="DoraClient"/>, and
/// seeking is free. Reads smaller than <see cref="BufferSize"/> fill a small buffer first, so a parser that reads a
/// footer a few bytes at a time (Parquet.Net's thrift reader does) costs one round trip per 64 KiB, not per field.
/// Large reads go straight into the caller's memory. Synchronous reads block the calling thread on the page stream
/// and need the length known (<see cref="DoraClient.OpenReadAsync"/>, or any asynchronous read first). Every read asks
/// for the version the file had when the stream learned its length, so a file replaced while it is being read fails
/// the stream with <see cref="Dora.Core.Errors.VersionMismatchException"/> instead of mixing two versions.
/// </summary>
internal sealed class DoraReadStream : Stream
{
    /// <summary>Size of the small-read buffer.</summary>
    public const int BufferSize = 64 << 10;

    private readonly DoraClient _client;
    private readonly string _path;
    private long? _length;
    private string? _version;
    private long _position;
    private byte[]? _buffer;
    private long _bufferStart;
    private int _bufferCount;

    public DoraReadStream(DoraClient client, string path, long? knownLength, string? version)
    {
        _client = client;
        _path = path;
        _length = knownLength;
        _version = version;
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _length ?? throw new NotSupportedException(
        $"The length of '{_path}' is not known yet: open the stream with DoraClient.OpenReadAsync, or read from it asynchronously first.");

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_length is null)
        {
            var status = await _client.StatAsync(_path, cancellationToken).ConfigureAwait(false);
            (_length, _version) = (status.Length, status.ETag);
        }

        int wanted = Wanted(buffer.Length);
        if (wanted == 0)
        {
            return 0;
        }

        if (TryCopyBuffered(buffer.Span[..wanted], out int copied))
        {
            return copied;
        }

        if (wanted >= BufferSize)
        {
            return Advance(await _client.ReadAsync(_path, _position, buffer[..wanted], _version, cancellationToken).ConfigureAwait(false));
        }

        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
        _bufferStart = _position;
        _bufferCount = await _client.ReadAsync(_path, _position, _buffer.AsMemory(0, Wanted(BufferSize)), _version, cancellationToken).ConfigureAwait(false);
        TryCopyBuffered(buffer.Span[..wanted], out copied);
        return copied;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override int Read(Span<byte> buffer)
    {
        int wanted = Wanted(buffer.Length);
        if (wanted == 0)
        {
            return 0;
        }

        if (TryCopyBuffered(buffer[..wanted], out int copied))
        {
            return copied;
        }

        // The page stream writes into memory it can hold across the wait, which a span is not: large synchronous reads
        // go through a pooled array too.
        _buffer ??= ArrayPool<byte>.Shared.Rent(BufferSize);
        if (wanted >= BufferSize)
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent(wanted);
            try
            {
                int read = _client.Read(_path, _position, rented.AsMemory(0, wanted), _version);
                rented.AsSpan(0, read).CopyTo(buffer);
                return Advance(read);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        _bufferStart = _position;
        _bufferCount = _client.Read(_path, _position, _buffer.AsMemory(0, Wanted(BufferSize)), _version);
        TryCopyBuffered(buffer[..wanted], out copied);
        return copied;
    }

    /// <summary>Bytes a read of <paramref name="requested"/> may return from the current position.</summary>
    private int Wanted(int requested) => (int)Math.Max(0, Math.Min(requested, Length - _position));

    private bool TryCopyBuffered(Span<byte> destination, out int copied)
    {
        long start = _position - _bufferStart;
        if (_buffer is null || start < 0 || start >= _bufferCount)
        {
            copied = 0;
            return false;
        }

        copied = Math.Min(destination.Length, _bufferCount - (int)start);
        _buffer.AsSpan((int)start, copied).CopyTo(destination);
        Advance(copied);
        return true;
    }

    private int Advance(int read)
    {
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        if (target < 0)
        {
            throw new IOException($"Cannot seek to {target} in '{_path}': before the start.");
        }

        _position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException($"'{_path}' is read-only through Dora.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException($"'{_path}' is read-only through Dora.");

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        base.Dispose(disposing);
    }
}
