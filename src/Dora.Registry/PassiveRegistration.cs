namespace Dora.Registry;

/// <summary>
/// A registration with nothing to keep alive (in-process and static registries): it ends when disposed, running
/// <paramref name="onDispose"/> once.
/// </summary>
internal sealed class PassiveRegistration(WorkerRecord worker, Action? onDispose) : IWorkerRegistration
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WorkerRecord Worker => worker;

    public string? Session => null;

    public Task Completion => _completion.Task;

    // Never renewed, so never raised.
    public event EventHandler<string>? SessionChanged
    {
        add { }
        remove { }
    }

    public ValueTask DisposeAsync()
    {
        if (_completion.TrySetResult())
        {
            onDispose?.Invoke();
        }

        return ValueTask.CompletedTask;
    }
}
