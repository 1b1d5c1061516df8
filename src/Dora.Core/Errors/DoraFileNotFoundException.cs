namespace Dora.Core.Errors;

/// <summary>The path names no file or directory in its under storage.</summary>
public sealed class DoraFileNotFoundException : DoraException
{
    public DoraFileNotFoundException(string path)
        : base($"No such file or directory: '{path}'.")
    {
        Path = path;
    }

    public string Path { get; }
}
