using Dora.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Dora.Worker.Pages;

/// <summary>
/// An exclusive lock on a cache directory (<c>dora.lock</c> inside it, an advisory <c>flock</c> that the kernel drops
/// when the process dies), taken before anything in the directory is read, changed or deleted: a second worker started
/// on a live worker's directory stops before it can touch a page.
/// </summary>
internal sealed class CacheDirectoryLock : IDisposable
{
    private const string FileName = "dora.lock";

    private readonly SafeFileHandle _file;

    private CacheDirectoryLock(SafeFileHandle file)
    {
        _file = file;
    }

    /// <summary>Creates the directory when missing and locks it.</summary>
    /// <exception cref="CacheDirectoryInUseException">Another process (or another store in this one) holds the lock.</exception>
    /// <exception cref="IOException">The directory or its lock file cannot be created or opened.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory cannot be written.</exception>
    public static CacheDirectoryLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        return PosixFiles.TryLockFile(Path.Combine(directory, FileName)) is { } file
            ? new CacheDirectoryLock(file)
            : throw new CacheDirectoryInUseException(directory);
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>A cache directory is in use by another running worker.</summary>
public sealed class CacheDirectoryInUseException(string directory)
    : IOException($"The cache directory '{directory}' is in use by another running worker; give this worker its own --cache-dir.")
{
    /// <summary>The directory that is in use.</summary>
    public string Directory { get; } = directory;
}
