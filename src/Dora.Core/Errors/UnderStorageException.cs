namespace Dora.Core.Errors;

/// <summary>The under storage failed to answer; <see cref="DoraException.IsTransient"/> says whether a retry may help.</summary>
public sealed class UnderStorageException : DoraException
{
    public UnderStorageException(string path, string message, bool isTransient, Exception? inner = null)
        : base($"Under storage failed for '{path}': {message}", isTransient, inner)
    {
        Path = path;
    }

    public string Path { get; }
}
