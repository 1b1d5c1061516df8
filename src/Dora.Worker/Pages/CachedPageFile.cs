namespace Dora.Worker.Pages;

/// <summary>
/// A cached, checked page opened for zero-copy sending: its bytes are <see cref="Length"/> bytes of
/// <see cref="Stream"/> from <see cref="DataOffset"/>. The page stays pinned (eviction waits) until this is disposed.
/// </summary>
public sealed class CachedPageFile : IDisposable
{
    private readonly PageEntry _entry;
    private int _disposed;

    internal CachedPageFile(FileStream stream, PageEntry entry, long dataOffset)
    {
        Stream = stream;
        _entry = entry;
        DataOffset = dataOffset;
    }

    /// <summary>The open page file.</summary>
    public FileStream Stream { get; }

    /// <summary>Where the page's bytes start in the file (after the page header).</summary>
    public long DataOffset { get; }

    /// <summary>The page's length in bytes.</summary>
    public int Length => _entry.Length;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Stream.Dispose();
            PageStore.Unpin(_entry);
        }
    }
}
