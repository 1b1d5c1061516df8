using System.Diagnostics;

namespace Dora.TestSupport;

/// <summary>
/// Runs a CommonJS script with node against the npm packages ./test.sh installs into tests/.tools (DuckDB, apache-arrow):
/// the independent writers and readers the tests compare Dora with.
/// </summary>
public static class NodeScript
{
    private static string Modules => RepositoryFiles.PathOf(Path.Combine("tests", ".tools", "node_modules"));

    /// <summary>Runs <paramref name="script"/> (a path) with <paramref name="arguments"/>; returns its standard output.</summary>
    /// <exception cref="InvalidOperationException">The packages are missing, or the script failed (its error output is in the message).</exception>
    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        if (!Directory.Exists(Path.Combine(Modules, "@duckdb", "node-api")) || !Directory.Exists(Path.Combine(Modules, "apache-arrow")))
        {
            throw new InvalidOperationException("The npm packages of the tests are missing; ./test.sh installs them into tests/.tools.");
        }

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NODE_PATH"] = Modules;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5)).ConfigureAwait(false);
        return process.ExitCode == 0
            ? await output.ConfigureAwait(false)
            : throw new InvalidOperationException($"node {Path.GetFileName(script)} exited with {process.ExitCode}: {await errors.ConfigureAwait(false)}");
    }
}
