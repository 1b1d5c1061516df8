namespace Dora.Registry;

/// <summary>
/// A registration with nothing to keep alive (in-process and static registries): it ends when disposed, running
/// <paramref name="onDispose"/> once; updates go to <paramref name="onUpdate"/> (none for a static file).
/// </summary>
internal sealed class PassiveRegistration(WorkerRecord worker, Action<WorkerRecord>? onDispose, Action<WorkerRecord, WorkerRecord>? onUpdate = null) : IWorkerRegistration
{
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkerRecord _worker = worker;

    public WorkerRecord Worker => Volatile.Read(ref _worker);

    public string? Session => null;

    public Task Completion => _completion.Task;

    // Never renewed, so never raised.
    public event EventHandler<string>? SessionChanged
    {
        add { }
        remove { }
    }

    public Task UpdateAsync(WorkerRecord worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        worker.Validate();
        WorkerRecord old = Interlocked.Exchange(ref _worker, worker);
        onUpdate?.Invoke(old, worker);
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (_completion.TrySetResult())
        {
            onDispose?.Invoke(Worker);
        }

        return ValueTask.CompletedTask;
    }
}
