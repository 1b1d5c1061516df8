namespace Dora.Core.Errors;

/// <summary>
/// An under-storage file is no longer the version being read (its length, version or ETag moved). Transient: a new
/// look at the file's status, and a read of the new version, succeeds. Workers drop what they knew of the file when
/// they see this, so the next request reads the new version whole.
/// </summary>
public sealed class FileChangedException(string path, string message)
    : DoraException($"'{path}' changed while it was being read: {message}", isTransient: true)
{
    public string Path { get; } = path;
}
