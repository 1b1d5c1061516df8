namespace Dora.TestSupport;

/// <summary>Files of the repository itself (docs whose examples the tests check).</summary>
public static class RepositoryFiles
{
    /// <summary>The repository root: the first directory above the test binaries that holds Dora.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The full path of a repository file given relative to the root.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Dora.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Dora.sln above {AppContext.BaseDirectory}.");
    }
}
