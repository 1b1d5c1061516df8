namespace Dora.Core.Errors;

/// <summary>A byte range lies outside the file or is malformed.</summary>
public sealed class InvalidRangeException : DoraException
{
    public InvalidRangeException(string path, long offset, long length, long fileLength)
        : base($"Range offset={offset} length={length} is outside '{path}' (file length {fileLength}).")
    {
        FileLength = fileLength;
    }

    public long FileLength { get; }
}
