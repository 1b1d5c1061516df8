using System.Diagnostics;
using System.Text;

namespace Dora.TestSupport;

/// <summary>The dora program as a child process, with its output collected.</summary>
public sealed class DoraProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DoraProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Everything written to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public static DoraProcess Start(string workingDirectory, params string[] arguments) => Start(workingDirectory, null, arguments);

    /// <summary>Starts dora with extra environment variables (a null value removes one).</summary>
    public static DoraProcess Start(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dora.dll"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove("DORA_REGISTRY");
        start.Environment.Remove("DORA_TOKEN");
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var dora = new DoraProcess(process);
        process.OutputDataReceived += (_, e) => dora.Append(e.Data);
        process.ErrorDataReceived += (_, e) => dora.Append(e.Data);
        process.Exited += (_, _) => dora._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return dora;
    }

    /// <summary>Runs dora to completion and returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, null, arguments);

    /// <summary>Runs dora to completion with extra environment variables and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        await using DoraProcess dora = Start(workingDirectory, environment, arguments);
        int code = await dora.WaitForExitAsync();
        return (code, dora.Output);
    }

    public async Task<int> WaitForExitAsync()
    {
        await _exited.Task.WaitAsync(TestTimeouts.Default);
        await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        return _process.ExitCode;
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails early if the process exits.</summary>
    public async Task WaitForOutputAsync(string text)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_exited.Task.IsCompleted)
            {
                await Task.Delay(100);
                if (!Output.Contains(text, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"dora exited before printing '{text}':\n{Output}");
                }

                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"dora did not print '{text}':\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, like a crashed machine.</summary>
    public void Kill9() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM: the clean stop an operator or systemd asks for.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestTimeouts.Default);
        }

        _process.Dispose();
    }
}
