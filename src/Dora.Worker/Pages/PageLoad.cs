using System.Buffers;

namespace Dora.Worker.Pages;

/// <summary>
/// One under-storage read of one page, shared by every reader that misses on the page meanwhile. The pooled buffer
/// is reference counted: the loader and each waiter hold a reference, and the buffer returns to the pool with the
/// last release, so no reader can see it reused under its feet.
/// </summary>
internal sealed class PageLoad
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[]? _buffer;
    private int _references;

    public PageLoad(PageSource source, PageKey key, int pageLength, int initialReferences)
    {
        Source = source;
        Key = key;
        PageLength = pageLength;
        _references = initialReferences;
    }

    /// <summary>The file version the page comes from.</summary>
    public PageSource Source { get; }

    public PageKey Key { get; }

    /// <summary>Bytes in the page.</summary>
    public int PageLength { get; }

    /// <summary>Completes when the page's bytes are available to readers (or the read failed).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Completes when the load is over, the page written to disk or given up.</summary>
    public Task Finished => _finished.Task;

    public void Finish() => _finished.TrySetResult();

    /// <summary>Why the page read was not written to the cache (null when it was, or the read failed); set before <see cref="Finished"/>.</summary>
    public string? NotCachedReason { get; set; }

    /// <summary>The page's bytes; valid once <see cref="Completion"/> succeeded and while a reference is held.</summary>
    public ReadOnlySpan<byte> Data => _buffer.AsSpan(0, Length);

    public int Length { get; private set; }

    public void AddReference() => Interlocked.Increment(ref _references);

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0 && _buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public byte[] RentBuffer()
    {
        _buffer = ArrayPool<byte>.Shared.Rent(PageLength);
        return _buffer;
    }

    public void Succeed(int length)
    {
        Length = length;
        _completion.SetResult();
    }

    public void Fail(Exception error) => _completion.SetException(error);
}
