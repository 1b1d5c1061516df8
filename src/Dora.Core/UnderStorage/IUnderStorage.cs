namespace Dora.Core.UnderStorage;

/// <summary>
/// A slow or remote store that Dora caches: a local/NFS folder or an object store. Paths are relative to the store's
/// root, '/'-separated, without a leading '/', already validated as <see cref="Paths.DoraPath"/> segments; the empty
/// string is the root.
/// </summary>
public interface IUnderStorage : IDisposable
{
    /// <summary>A short description for logs and errors, e.g. <c>file:///data</c>; never contains credentials.</summary>
    string Description { get; }

    /// <summary>Status of a file or directory.</summary>
    /// <exception cref="Errors.DoraFileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="Errors.UnderStorageException">The store failed; see its IsTransient.</exception>
    ValueTask<UfsFileStatus> StatAsync(string relativePath, CancellationToken cancellationToken);

    /// <summary>
    /// Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/> and returns how many were read; fewer only at
    /// the end of the file. The file must still have <paramref name="expected"/> as its fingerprint; when the store can
    /// tell that it changed, it throws <see cref="Errors.UnderStorageException"/> instead of returning other bytes.
    /// </summary>
    ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the children of a directory, ordered by name, starting after <paramref name="after"/> (exclusive).
    /// Memory is bounded by <paramref name="limit"/>, not by the size of the directory.
    /// </summary>
    ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken);
}
