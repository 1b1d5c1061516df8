using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Dora.Core.Errors;
using Dora.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Dora.Core.UnderStorage;

/// <summary>
/// A local or NFS-mounted folder. Reads are positioned (<see cref="RandomAccess"/>), never whole-file loads. Every
/// path is resolved physically and must stay inside the root, so a symbolic link cannot lead out of the mount.
/// </summary>
public sealed class LocalUnderStorage : IUnderStorage
{
    private readonly string _root;

    public LocalUnderStorage(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(rootDirectory);
        var full = Path.GetFullPath(rootDirectory);
        if (!Directory.Exists(full))
        {
            throw new DirectoryNotFoundException($"The under-storage folder '{full}' does not exist.");
        }

        _root = LocalRealPath.Resolve(full, full);
        Description = "file://" + _root;
    }

    public string Description { get; }

    public ValueTask<UfsFileStatus> StatAsync(string relativePath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var full = Resolve(relativePath);
        try
        {
            return ValueTask.FromResult(ToStatus(NameOf(relativePath), PosixFiles.Stat(full)));
        }
        catch (FileNotFoundException)
        {
            throw new DoraFileNotFoundException("/" + relativePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(relativePath, e);
        }
    }

    public async ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var full = Resolve(relativePath);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DoraFileNotFoundException("/" + relativePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(relativePath, e);
        }

        using (handle)
        {
            try
            {
                // Checked before and after the read: bytes of another version must never be cached under this fingerprint.
                EnsureUnchanged(relativePath, handle, expected);
                var total = 0;
                while (total < buffer.Length)
                {
                    var read = await RandomAccess.ReadAsync(handle, buffer[total..], offset + total, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                }

                EnsureUnchanged(relativePath, handle, expected);
                return total;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Classify(relativePath, e);
            }
        }
    }

    public ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        cancellationToken.ThrowIfCancellationRequested();
        var full = Resolve(relativePath);
        if (!Directory.Exists(full))
        {
            if (File.Exists(full))
            {
                throw new InvalidPathException("/" + relativePath, "it is a file, not a directory");
            }

            throw new DoraFileNotFoundException("/" + relativePath);
        }

        try
        {
            return ValueTask.FromResult(ListPage(full, after, limit, cancellationToken));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(relativePath, e);
        }
    }

    public ValueTask<IUfsWriter> CreateAsync(string relativePath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (relativePath.Length == 0)
        {
            throw new InvalidPathException("/", "the root is a directory");
        }

        int slash = relativePath.LastIndexOf('/');
        string parent = slash < 0 ? string.Empty : relativePath[..slash];
        try
        {
            string directory = EnsureDirectory(parent);
            string target = Path.Combine(directory, NameOf(relativePath));
            if (Directory.Exists(target))
            {
                throw new InvalidPathException("/" + relativePath, "it is a directory");
            }

            return ValueTask.FromResult<IUfsWriter>(LocalUfsWriter.Open(directory, target, () => StatAsync(relativePath, CancellationToken.None)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(relativePath, e);
        }
    }

    public ValueTask<bool> DeleteAsync(string relativePath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (relativePath.Length == 0)
        {
            throw new InvalidPathException("/", "the root of a mount is not deleted");
        }

        try
        {
            string full = Resolve(relativePath);
            if (Directory.Exists(full))
            {
                if (Directory.EnumerateFileSystemEntries(full).Any())
                {
                    throw new InvalidPathException("/" + relativePath, "the directory is not empty");
                }

                Directory.Delete(full);
                return ValueTask.FromResult(true);
            }

            if (!File.Exists(full))
            {
                return ValueTask.FromResult(false);
            }

            File.Delete(full);
            return ValueTask.FromResult(true);
        }
        catch (FileNotFoundException)
        {
            return ValueTask.FromResult(false);
        }
        catch (DirectoryNotFoundException)
        {
            return ValueTask.FromResult(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Classify(relativePath, e);
        }
    }

    /// <summary>The real path of directory <paramref name="relativePath"/>, made (with its parents) when missing, inside the root.</summary>
    private string EnsureDirectory(string relativePath)
    {
        string current = _root;
        string walked = string.Empty;
        foreach (string segment in relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            walked = walked.Length == 0 ? segment : walked + "/" + segment;
            string next = Path.Combine(current, segment);
            if (File.Exists(next) && !Directory.Exists(next))
            {
                throw new InvalidPathException("/" + walked, "it is a file, so nothing can be created below it");
            }

            if (!Directory.Exists(next))
            {
                Directory.CreateDirectory(next);
            }

            // A symbolic link on the way must still lead inside the mount.
            current = Resolve(walked);
        }

        return current;
    }

    public void Dispose()
    {
        // Nothing held open: every read opens and closes its own handle.
    }

    private UfsListingPage ListPage(string full, string? after, int limit, CancellationToken cancellationToken)
    {
        // Keeps only the `limit + 1` smallest names after the token in a max-heap: memory stays bounded by the page
        // size however large the directory is, and the extra entry tells whether another page follows.
        var heap = new PriorityQueue<UfsFileStatus, string>(limit + 1, ReverseOrdinal.Instance);
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = true, ReturnSpecialDirectories = false };
        foreach (var entry in new DirectoryInfo(full).EnumerateFileSystemInfos("*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = entry.Name;
            if (name.StartsWith(LocalUfsWriter.TemporaryPrefix, StringComparison.Ordinal))
            {
                // A file still being written: not part of the store until it is renamed into place.
                continue;
            }

            if (after is not null && string.CompareOrdinal(name, after) <= 0)
            {
                continue;
            }

            if (heap.Count == limit + 1 && string.CompareOrdinal(name, heap.Peek().Name) >= 0)
            {
                continue;
            }

            var status = StatusOfEntry(entry);
            if (status is null)
            {
                continue;
            }

            heap.Enqueue(status, name);
            if (heap.Count > limit + 1)
            {
                heap.Dequeue();
            }
        }

        var hasMore = heap.Count > limit;
        if (hasMore)
        {
            heap.Dequeue();
        }

        var entries = new UfsFileStatus[heap.Count];
        for (var i = entries.Length - 1; i >= 0; i--)
        {
            entries[i] = heap.Dequeue();
        }

        return new UfsListingPage(entries, hasMore ? entries[^1].Name : null);
    }

    // A symbolic link is listed as what it points to, and left out when that lies outside the root. Every entry's
    // status (and so its version tag) is the one a stat of its path gives.
    private UfsFileStatus? StatusOfEntry(FileSystemInfo entry)
    {
        var path = entry.FullName;
        if (entry.LinkTarget is not null)
        {
            path = LocalRealPath.Resolve(entry.FullName, entry.FullName);
            if (!IsInsideRoot(path))
            {
                return null;
            }
        }

        try
        {
            return ToStatus(entry.Name, PosixFiles.Stat(path));
        }
        catch (FileNotFoundException)
        {
            // Gone since the directory was read, or a dangling link.
            return null;
        }
    }

    private string Resolve(string relativePath)
    {
        if (relativePath.Length == 0)
        {
            return _root;
        }

        var real = LocalRealPath.Resolve(_root, relativePath, "/" + relativePath);
        if (!IsInsideRoot(real))
        {
            throw new InvalidPathException("/" + relativePath, "a symbolic link leads outside the mount root");
        }

        return real;
    }

    private bool IsInsideRoot(string realPath) =>
        realPath == _root
        || (realPath.StartsWith(_root, StringComparison.Ordinal) && (_root == "/" || realPath[_root.Length] == '/'));

    private static void EnsureUnchanged(string relativePath, SafeFileHandle handle, Fingerprint expected)
    {
        var now = PosixFiles.Stat(handle);
        var version = VersionTag(now);
        if (now.Length != expected.Length || version != expected.ETag)
        {
            throw new FileChangedException(
                "/" + relativePath,
                $"its status said {expected.Length} bytes, version {expected.ETag}; it is now {now.Length} bytes, version {version}");
        }
    }

    private static UfsFileStatus ToStatus(string name, NativeFileStatus status) => status.IsDirectory
        ? new(name, IsDirectory: true, 0, status.LastModified, ETag: null)
        : new(name, IsDirectory: false, status.Length, status.LastModified, VersionTag(status));

    /// <summary>
    /// A local file's version: a hash of everything the file system says about its contents (device, inode, length,
    /// modification and change times in nanoseconds), quoted like an HTTP entity tag. A file rewritten in place with its
    /// modification time restored (cp -p, touch -d) keeps its length and mtime but not its change time; a file replaced
    /// by a rename (rsync) gets a new inode.
    /// </summary>
    internal static string VersionTag(NativeFileStatus status)
    {
        Span<byte> facts = stackalloc byte[40];
        BinaryPrimitives.WriteUInt64LittleEndian(facts, status.Device);
        BinaryPrimitives.WriteUInt64LittleEndian(facts[8..], status.Inode);
        BinaryPrimitives.WriteInt64LittleEndian(facts[16..], status.Length);
        BinaryPrimitives.WriteInt64LittleEndian(facts[24..], status.ModifiedNs);
        BinaryPrimitives.WriteInt64LittleEndian(facts[32..], status.ChangedNs);
        return string.Create(CultureInfo.InvariantCulture, $"\"{XxHash64.HashToUInt64(facts):x16}\"");
    }

    private static string NameOf(string relativePath) => relativePath[(relativePath.LastIndexOf('/') + 1)..];

    private static UnderStorageException Classify(string relativePath, Exception e) =>
        e is UnauthorizedAccessException
            ? new UnderStorageException("/" + relativePath, "permission denied", isTransient: false, e)
            : new UnderStorageException("/" + relativePath, e.Message, isTransient: true, e);

    private sealed class ReverseOrdinal : IComparer<string>
    {
        public static readonly ReverseOrdinal Instance = new();

        public int Compare(string? x, string? y) => string.CompareOrdinal(y, x);
    }
}
