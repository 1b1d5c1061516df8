using System.Diagnostics;

namespace Dora.TestSupport;

/// <summary>What the test fixtures that run real servers (etcd, s3rver) share.</summary>
internal static class ServerProcesses
{
    /// <summary>Starts a program with its output drained, so a chatty server never stalls on a full pipe.</summary>
    public static Process Start(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs a fixture's first start; a start that fails disposes what it left behind.</summary>
    public static async Task<T> StartOrDisposeAsync<T>(T server, Func<T, Task> start)
        where T : IAsyncDisposable
    {
        try
        {
            await start(server).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
