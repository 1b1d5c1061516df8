using System.Diagnostics;

namespace Dora.TestSupport;

/// <summary>
/// A small tmpfs mounted over a folder (needs root, as CI runs), for tests of a full disk; unmounted on dispose, also
/// when the test failed.
/// </summary>
public sealed class TmpfsMount : IAsyncDisposable
{
    private readonly string _path;

    private TmpfsMount(string path)
    {
        _path = path;
    }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (e.g. <c>12m</c>) over <paramref name="path"/>.</summary>
    /// <exception cref="InvalidOperationException">It cannot be mounted (not root?); the message has mount's reason.</exception>
    public static async Task<TmpfsMount> MountAsync(string path, string size)
    {
        (int code, string output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path).ConfigureAwait(false);
        return code == 0
            ? new TmpfsMount(path)
            : throw new InvalidOperationException($"cannot mount a tmpfs over '{path}' (this test needs root, as CI runs): {output}");
    }

    public async ValueTask DisposeAsync()
    {
        // A lazy unmount: the worker under test may still hold files open while it is being stopped.
        await RunAsync("umount", "-l", _path).ConfigureAwait(false);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string output = await process.StandardError.ReadToEndAsync().ConfigureAwait(false) + await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().WaitAsync(TestTimeouts.Default).ConfigureAwait(false);
        return (process.ExitCode, output);
    }
}
