using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Registry.StaticFile;

/// <summary>
/// Membership from a JSON file, <c>{"workers": [ {worker record}, ... ]}</c>, for fixed deployments without etcd.
/// Watches poll the file and pick up edits; a worker may register only under an id the file lists.
/// </summary>
public sealed class StaticFileRegistry : IClusterRegistry
{
    /// <summary>Largest membership file read, so a wrong path cannot make a process load gigabytes.</summary>
    public const long MaxFileBytes = 16 << 20;

    private readonly string _path;
    private readonly TimeSpan _pollInterval;
    private readonly ILogger _logger;

    /// <summary>Creates the registry over <paramref name="path"/>.</summary>
    /// <param name="path">The membership file.</param>
    /// <param name="pollInterval">How often watches look for edits; 2 s by default.</param>
    /// <param name="logger">Where skipped entries and read errors are reported.</param>
    public StaticFileRegistry(string path, TimeSpan? pollInterval = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
        _pollInterval = pollInterval ?? TimeSpan.FromSeconds(2);
        _logger = logger ?? NullLogger.Instance;
        Description = $"the static membership file '{_path}'";
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public async Task<Membership> ReadAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        DateTime modified;
        try
        {
            var info = new FileInfo(_path);
            if (!info.Exists)
            {
                throw new RegistryUnavailableException($"The static membership file '{_path}' does not exist.");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new RegistryUnavailableException($"The static membership file '{_path}' is {info.Length} bytes; the limit is {MaxFileBytes}.");
            }

            modified = info.LastWriteTimeUtc;
            bytes = await File.ReadAllBytesAsync(_path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RegistryUnavailableException($"Cannot read the static membership file '{_path}': {e.Message}", e);
        }

        return new Membership(ParseWorkers(bytes), modified.Ticks);
    }

    /// <summary>The file is only read: a scheduler cannot advertise itself in it (list it under "scheduler" instead).</summary>
    public Task<IAsyncDisposable> AdvertiseSchedulerAsync(SchedulerRecord scheduler, CancellationToken cancellationToken)
    {
        RegistryLog.StaticScheduler(_logger, Description, scheduler.Url);
        return Task.FromResult<IAsyncDisposable>(new Advertisement(onDispose: null));
    }

    /// <inheritdoc/>
    public async Task<SchedulerRecord?> ReadSchedulerAsync(CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(_path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RegistryUnavailableException($"Cannot read the static membership file '{_path}': {e.Message}", e);
        }

        JsonElement? scheduler = Parse(bytes)?.Scheduler;
        return scheduler is { ValueKind: JsonValueKind.Object } element ? SchedulerRecord.TryParse(Encoding.UTF8.GetBytes(element.GetRawText())) : null;
    }

    private StaticMembershipFile? Parse(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, RegistryJson.Default.StaticMembershipFile);
        }
        catch (JsonException e)
        {
            throw new RegistryUnavailableException($"The static membership file '{_path}' is not valid JSON: {e.Message}", e);
        }
    }

    private List<WorkerRecord> ParseWorkers(byte[] bytes)
    {
        StaticMembershipFile? file = Parse(bytes);

        var workers = new Dictionary<string, WorkerRecord>(StringComparer.Ordinal);
        for (int i = 0; i < (file?.Workers.Count ?? 0); i++)
        {
            JsonElement element = file!.Workers[i];
            string key = $"workers[{i}]";
            try
            {
                string id = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("id", out JsonElement idElement)
                    && idElement.ValueKind == JsonValueKind.String
                    ? idElement.GetString()!
                    : throw new FormatException("it has no string \"id\".");
                WorkerRecord record = WorkerRecord.Parse(Encoding.UTF8.GetBytes(element.GetRawText()), id);
                if (!workers.TryAdd(id, record))
                {
                    throw new FormatException($"id '{id}' is listed twice; the first entry is used.");
                }
            }
            catch (FormatException e)
            {
                RegistryLog.MalformedEntry(_logger, key, Description, e.Message);
            }
        }

        return [.. workers.Values];
    }

    /// <inheritdoc/>
    public async Task<IMembershipWatch> WatchAsync(CancellationToken cancellationToken)
    {
        Membership initial = await ReadAsync(cancellationToken).ConfigureAwait(false);
        return new PollingWatch(this, initial);
    }

    /// <inheritdoc/>
    public async Task<IWorkerRegistration> RegisterAsync(WorkerRecord worker, RegistrationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(worker);
        worker.Validate();
        Membership membership = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (membership.Find(worker.Id) is null)
        {
            throw new RegistryUnavailableException(
                $"Worker id '{worker.Id}' is not listed in {Description}; add this entry to its \"workers\": " +
                Encoding.UTF8.GetString(worker.ToJson()));
        }

        return new PassiveRegistration(worker, onDispose: null);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Re-reads the file whenever its time stamp changes; a failed read keeps the last view.</summary>
    private sealed class PollingWatch : MembershipWatchBase
    {
        private readonly StaticFileRegistry _registry;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public PollingWatch(StaticFileRegistry registry, Membership initial)
            : base(initial)
        {
            _registry = registry;
            _loop = PollAsync(_stop.Token);
        }

        private async Task PollAsync(CancellationToken stop)
        {
            using var timer = new PeriodicTimer(_registry._pollInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    try
                    {
                        if (File.GetLastWriteTimeUtc(_registry._path).Ticks == Current.Revision && IsConnected)
                        {
                            continue;
                        }

                        Membership next = await _registry.ReadAsync(stop).ConfigureAwait(false);

                        // A worker taken out of the file was taken out on purpose: views drop it at once.
                        foreach (WorkerRecord worker in Current.Workers)
                        {
                            if (next.Find(worker.Id) is null)
                            {
                                NoteGracefulDeparture(worker.Id);
                            }
                        }

                        Publish(next);
                        SetConnected(true);
                    }
                    catch (RegistryUnavailableException e)
                    {
                        if (IsConnected)
                        {
                            RegistryLog.Unreachable(_registry._logger, _registry.Description, e.Message, Current.Workers.Count, Current.Revision);
                        }

                        SetConnected(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        public override async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
            _stop.Dispose();
        }
    }
}
