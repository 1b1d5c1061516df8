namespace Dora.Core.Errors;

/// <summary>
/// A read asked for bytes of one version of a file (the version it saw when it opened the file), and the file is now
/// another version. Permanent for that reader: its earlier bytes came from the old version, so the rest cannot be served
/// consistently; it must open the file again.
/// </summary>
public sealed class VersionMismatchException : DoraException
{
    public VersionMismatchException(string path, string expected, string? current)
        : base($"'{path}' changed since it was opened: it was version {expected}, it is now {current ?? "a version without a tag"}; open it again to read the new version")
    {
        Path = path;
    }

    /// <summary>The same error as a worker reported it (its message already names both versions).</summary>
    public VersionMismatchException(string path, string message)
        : base(message)
    {
        Path = path;
    }

    public string Path { get; }
}
