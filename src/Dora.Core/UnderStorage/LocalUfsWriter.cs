using Dora.Core.Errors;

namespace Dora.Core.UnderStorage;

/// <summary>
/// A new version of a local file: written to a hidden temporary file beside the target (same directory, so the same
/// file system), flushed to disk, then renamed over the target, which replaces it atomically: a reader opens the old
/// file or the new one. Listings skip the temporary names (<see cref="TemporaryPrefix"/>).
/// </summary>
internal sealed class LocalUfsWriter : IUfsWriter
{
    /// <summary>Names of files being written start with this; listings leave them out.</summary>
    public const string TemporaryPrefix = ".dora-upload-";

    private readonly FileStream _file;
    private readonly string _temporary;
    private readonly string _target;
    private readonly Func<ValueTask<UfsFileStatus>> _statusAfterCommit;
    private bool _committed;

    private LocalUfsWriter(FileStream file, string temporary, string target, Func<ValueTask<UfsFileStatus>> statusAfterCommit)
    {
        _file = file;
        _temporary = temporary;
        _target = target;
        _statusAfterCommit = statusAfterCommit;
    }

    public long Length => _file.Position;

    /// <summary>Opens a temporary file in <paramref name="directory"/> for <paramref name="target"/>.</summary>
    public static LocalUfsWriter Open(string directory, string target, Func<ValueTask<UfsFileStatus>> statusAfterCommit)
    {
        string temporary = Path.Combine(directory, TemporaryPrefix + Guid.NewGuid().ToString("N") + ".tmp");
        var file = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            BufferSize = 0,
        });
        return new LocalUfsWriter(file, temporary, target, statusAfterCommit);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _committed ? throw new InvalidOperationException("The file is already committed.") : _file.WriteAsync(data, cancellationToken);

    public async ValueTask<UfsFileStatus> CommitAsync(CancellationToken cancellationToken)
    {
        // On disk before it becomes visible: a crash after the rename must not leave a file of zeros under the name.
        _file.Flush(flushToDisk: true);
        await _file.DisposeAsync().ConfigureAwait(false);
        if (Directory.Exists(_target))
        {
            File.Delete(_temporary);
            throw new InvalidPathException(_target, "it became a directory while the file was written");
        }

        File.Move(_temporary, _target, overwrite: true);
        _committed = true;
        return await _statusAfterCommit().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        if (!_committed)
        {
            File.Delete(_temporary);
        }
    }
}
