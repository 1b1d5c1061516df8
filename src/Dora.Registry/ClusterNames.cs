namespace Dora.Registry;

/// <summary>The rule for cluster names, which become a segment of registry keys.</summary>
public static class ClusterNames
{
    /// <summary>The cluster used when none is named.</summary>
    public const string Default = "default";

    /// <summary>True for 1 to 64 characters from letters, digits, '.', '_' and '-' (not "." or "..").</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || name is "." or "..")
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }
}
