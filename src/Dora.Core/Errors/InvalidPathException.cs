namespace Dora.Core.Errors;

/// <summary>A path was rejected at the edge: it is malformed or tries to leave its mount.</summary>
public sealed class InvalidPathException : DoraException
{
    public InvalidPathException(string path, string reason)
        : base($"Invalid path '{Printable(path)}': {reason}.")
    {
        Path = path;
        Reason = reason;
    }

    public string Path { get; }

    public string Reason { get; }

    // A path with control characters is echoed back escaped so it cannot garble a log line or a terminal.
    private static string Printable(string path)
    {
        if (!path.Any(char.IsControl))
        {
            return path;
        }

        var builder = new System.Text.StringBuilder(path.Length + 8);
        foreach (var c in path)
        {
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        }

        return builder.ToString();
    }
}
