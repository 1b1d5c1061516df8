using System.Diagnostics.Metrics;

namespace Dora.Client;

/// <summary>
/// The client's counters, also published on the <c>Dora.Client</c> meter: reads, bytes, and every fallback
/// (another worker after the owner failed, or the under storage directly).
/// </summary>
public sealed class ClientMetrics : IDisposable
{
    /// <summary>Name of the meter the counters are published on.</summary>
    public const string MeterName = "Dora.Client";

    private readonly Meter _meter = new(MeterName);
    private long _reads;
    private long _bytes;
    private long _workerFailovers;
    private long _underStorageFallbacks;

    public ClientMetrics()
    {
        _meter.CreateObservableCounter("dora.client.reads", () => Reads, unit: "{read}", description: "Positioned reads completed.");
        _meter.CreateObservableCounter("dora.client.read_bytes", () => Bytes, unit: "By", description: "Bytes read.");
        _meter.CreateObservableCounter("dora.client.worker_failovers", () => WorkerFailovers, unit: "{request}",
            description: "Requests retried on the next worker on the ring after a transient failure.");
        _meter.CreateObservableCounter("dora.client.ufs_fallbacks", () => UnderStorageFallbacks, unit: "{read}",
            description: "Reads served from the under storage directly because every worker tried failed.");
    }

    public long Reads => Interlocked.Read(ref _reads);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long WorkerFailovers => Interlocked.Read(ref _workerFailovers);

    public long UnderStorageFallbacks => Interlocked.Read(ref _underStorageFallbacks);

    internal void Read(int bytes)
    {
        Interlocked.Increment(ref _reads);
        Interlocked.Add(ref _bytes, bytes);
    }

    internal void WorkerFailover() => Interlocked.Increment(ref _workerFailovers);

    internal void UnderStorageFallback() => Interlocked.Increment(ref _underStorageFallbacks);

    public void Dispose() => _meter.Dispose();
}
