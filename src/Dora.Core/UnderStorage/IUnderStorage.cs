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

    /// <summary>
    /// Starts a new version of a file: what is written to the returned writer stays invisible until
    /// <see cref="IUfsWriter.CommitAsync"/> makes it the file's whole content at once (readers see the old version or the
    /// new one, never a mix); disposing the writer without committing discards it. Missing parent directories are made.
    /// </summary>
    /// <exception cref="Errors.InvalidPathException">The path is a directory, or a parent is a file.</exception>
    /// <exception cref="Errors.UnderStorageException">The store failed; see its IsTransient.</exception>
    ValueTask<IUfsWriter> CreateAsync(string relativePath, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a file, or a directory that is empty; false when nothing is there. A directory with entries is left as it
    /// is and reported with <see cref="Errors.InvalidPathException"/>.
    /// </summary>
    ValueTask<bool> DeleteAsync(string relativePath, CancellationToken cancellationToken);
}
