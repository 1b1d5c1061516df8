using Dora.Formats;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>
/// A seekable read-only stream whose reads are positioned reads through the storage engine (so through the page cache).
/// Arrow's C# IPC reader reads it asynchronously; Apache Arrow's C++ Parquet reader (through ParquetSharp) calls back
/// synchronously from native code, so the synchronous read waits for the engine's. Callers of the synchronous path run
/// off the request thread (Columnar.ParquetArrowFile does) so a slow source blocks only that decode.
/// </summary>
internal sealed class EngineStream(StorageEngine engine, OpenedFile file, CancellationToken cancellationToken) : ReadOnlyFileStream(file.Length)
{
    /// <summary>
    /// The first failure of a synchronous read. A native decoder turns it into its own error ("IOError: ..."); the
    /// caller rethrows this instead, so an unavailable source or a changed file is reported as what it is, not as damage.
    /// </summary>
    public System.Runtime.ExceptionServices.ExceptionDispatchInfo? ReadFailure { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancel = default)
    {
        int count = (int)Math.Clamp(file.Length - Position, 0, buffer.Length);
        if (count == 0)
        {
            return 0;
        }

        CancellationToken token = cancel.CanBeCanceled ? cancel : cancellationToken;
        await engine.ReadExactlyAsync(file, Position, buffer[..count], token).ConfigureAwait(false);
        Position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancel) =>
        ReadAsync(buffer.AsMemory(offset, count), cancel).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadInto(buffer.AsMemory(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // A span cannot cross the engine's await: read into a pooled array and copy.
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            int read = ReadInto(rented.AsMemory(0, buffer.Length));
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private int ReadInto(Memory<byte> buffer)
    {
        int count = (int)Math.Clamp(file.Length - Position, 0, buffer.Length);
        if (count == 0)
        {
            return 0;
        }

        try
        {
            ValueTask read = engine.ReadExactlyAsync(file, Position, buffer[..count], cancellationToken);
            if (read.IsCompletedSuccessfully)
            {
                read.GetAwaiter().GetResult();
            }
            else
            {
                read.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (Exception e)
        {
            ReadFailure ??= System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            throw;
        }

        Position += count;
        return count;
    }
}
