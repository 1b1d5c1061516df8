namespace Dora.Core.UnderStorage;

/// <summary>
/// A file being written (<see cref="IUnderStorage.CreateAsync"/>): bytes are appended in order, and the file takes them
/// as its content only at <see cref="CommitAsync"/>. Disposing without committing discards everything written.
/// </summary>
public interface IUfsWriter : IAsyncDisposable
{
    /// <summary>Bytes written so far.</summary>
    long Length { get; }

    /// <summary>Appends <paramref name="data"/>.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Makes the bytes written the file's content, replacing any previous version at once; returns its new status.</summary>
    ValueTask<UfsFileStatus> CommitAsync(CancellationToken cancellationToken);
}
