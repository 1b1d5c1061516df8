using System.Diagnostics.Metrics;

namespace Dora.Worker.Metrics;

/// <summary>
/// The worker's metrics, all instruments of one <see cref="System.Diagnostics.Metrics.Meter"/> named <c>Dora.Worker</c>
/// (per worker instance): the meter is the one list, <c>/metrics</c> exports it in the Prometheus format through
/// OpenTelemetry, and OpenTelemetry users collect the same. Hot paths bump plain fields with <see cref="Interlocked"/>,
/// which observable instruments read; durations are histograms in seconds. docs/http.md lists every metric.
/// </summary>
public sealed class WorkerMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Dora.Worker";

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _streamRequestDuration;
    private readonly Histogram<double> _httpRequestDuration;
    private readonly Histogram<double> _flightCallDuration;
    private readonly Histogram<double> _ufsDuration;
    private long _cacheHits;
    private long _cacheMisses;
    private long _evictions;
    private long _checksumFailures;
    private long _cacheWriteFailures;
    private long _coalescedReads;
    private long _readAheadPages;
    private long _ufsBytesRead;
    private long _metadataMemory;
    private long _metadataRocksDb;
    private long _metadataUfs;
    private long _streamConnectionsOpened;
    private long _streamConnectionsClosed;
    private long _streamRequests;
    private long _streamRequestErrors;
    private long _streamBytesSendfile;
    private long _streamBytesCopied;
    private long _registered;
    private long _registrationRenewals;
    private long _scrubbedPages;
    private long _metadataDiskFailures;
    private long _streamSlowReaders;
    private long _scrubbedBytes;
    private long _filesChanged;
    private long _streamLocatedPages;

    public WorkerMetrics()
    {
        Counter("dora.cache.hits", () => CacheHits, "Page reads served from the cache.");
        Counter("dora.cache.misses", () => CacheMisses, "Page reads that needed the under storage (including those that joined a read in flight).");
        Counter("dora.cache.coalesced_reads", () => CoalescedReads, "Misses that joined an under-storage read already in flight.");
        Counter("dora.cache.readahead_pages", () => ReadAheadPages, "Pages fetched ahead of sequential readers.");
        Counter("dora.cache.evictions", () => Evictions, "Pages evicted to make room for others.");
        Counter("dora.cache.write_failures", () => CacheWriteFailures, "Page writes that failed; the read was served anyway.");
        Counter("dora.page.checksum_failures", () => ChecksumFailures, "Cached pages found damaged or missing (by a read, VERIFY or the scrubber); each was dropped and is read again.");
        Counter("dora.page.scrubbed_pages", () => ScrubbedPages, "Pages the scrubber read whole and checked.");
        Counter("dora.page.scrubbed", () => ScrubbedBytes, "Bytes of page files the scrubber read and checked.", "By");
        Counter("dora.ufs.read", () => UfsBytesRead, "Bytes read from under storages.", "By");
        Counter("dora.ufs.files_changed", () => FilesChanged, "Reads that found their source file changed since its status was cached (the status was dropped; no old bytes were served).");
        Counter("dora.metadata.disk_failures", () => MetadataDiskFailures, "RocksDB reads and writes that failed; lookups were answered without it.");
        _meter.CreateObservableCounter("dora.metadata.lookups", () => new[]
        {
            new Measurement<long>(MetadataMemoryLookups, new KeyValuePair<string, object?>("level", "memory")),
            new Measurement<long>(MetadataRocksDbLookups, new KeyValuePair<string, object?>("level", "rocksdb")),
            new Measurement<long>(MetadataUfsLookups, new KeyValuePair<string, object?>("level", "ufs")),
        }, description: "Metadata lookups by the level that answered them.");
        _meter.CreateObservableGauge("dora.stream.connections", () => StreamConnections, description: "Page stream connections open now.");
        Counter("dora.stream.requests", () => StreamRequests, "Page stream requests received.");
        Counter("dora.stream.request_errors", () => StreamRequestErrors, "Page stream requests answered with an error.");
        Counter("dora.stream.located_pages", () => StreamLocatedPages, "Cached pages a LOCATE told a client on this host to read from their files itself.");
        Counter("dora.stream.slow_readers", () => StreamSlowReaders, "Page stream connections closed because the client took frames slower than the minimum data rate.");
        _meter.CreateObservableCounter("dora.stream.sent", () => new[]
        {
            new Measurement<long>(StreamBytesSendfile, new KeyValuePair<string, object?>("mode", "sendfile")),
            new Measurement<long>(StreamBytesCopied, new KeyValuePair<string, object?>("mode", "copy")),
        }, unit: "By", description: "File bytes sent on the page stream, by how they left (sendfile or copy).");
        _meter.CreateObservableGauge("dora.registry.registered", () => Registered, description: "1 while the worker holds its registration.");
        Counter("dora.registry.renewals", () => RegistrationRenewals, "Registrations renewed after a lost lease.");

        _streamRequestDuration = Duration("dora.stream.request.duration", "Page stream requests, from receipt to their last frame, by request type.");
        _httpRequestDuration = Duration("dora.http.request.duration", "HTTP API requests, by endpoint.");
        _flightCallDuration = Duration("dora.flight.call.duration", "Arrow Flight calls, by method.");
        _ufsDuration = Duration("dora.ufs.operation.duration", "Under-storage calls (page reads, stats, listings), by operation.");
    }

    /// <summary>The meter every instrument of this worker belongs to (other parts of the worker add theirs to it).</summary>
    public Meter Meter => _meter;

    private void Counter(string name, Func<long> value, string description, string? unit = null) =>
        _meter.CreateObservableCounter(name, value, unit, description);

    private Histogram<double> Duration(string name, string description) =>
        _meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = global::Dora.Hosting.MetricsEndpoint.DurationBuckets });

    internal void StreamRequestTook(TimeSpan elapsed, string type) =>
        _streamRequestDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("type", type));

    /// <summary>Records how long an HTTP API request took.</summary>
    public void HttpRequestTook(TimeSpan elapsed, string endpoint) =>
        _httpRequestDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("endpoint", endpoint));

    /// <summary>Records how long an Arrow Flight call took.</summary>
    public void FlightCallTook(TimeSpan elapsed, string method) =>
        _flightCallDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("method", method));

    internal void UfsCallTook(TimeSpan elapsed, string operation) =>
        _ufsDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("operation", operation));

    /// <summary>Reads that found their source changed since its status was cached.</summary>
    public long FilesChanged => Volatile.Read(ref _filesChanged);

    internal void FileChanged() => Interlocked.Increment(ref _filesChanged);

    public long CacheHits => Volatile.Read(ref _cacheHits);

    /// <summary>Page stream connections open now.</summary>
    public long StreamConnections => Volatile.Read(ref _streamConnectionsOpened) - Volatile.Read(ref _streamConnectionsClosed);

    public long StreamRequests => Volatile.Read(ref _streamRequests);

    public long StreamRequestErrors => Volatile.Read(ref _streamRequestErrors);

    public long StreamBytesSendfile => Volatile.Read(ref _streamBytesSendfile);

    public long StreamBytesCopied => Volatile.Read(ref _streamBytesCopied);

    /// <summary>1 while the worker holds its registration in the registry, 0 before, after, or once another worker took its id.</summary>
    public long Registered => Volatile.Read(ref _registered);

    /// <summary>Times the registration had to be renewed (a lost etcd lease re-granted).</summary>
    public long RegistrationRenewals => Volatile.Read(ref _registrationRenewals);

    internal void SetRegistered(bool registered) => Volatile.Write(ref _registered, registered ? 1 : 0);

    internal void RegistrationRenewed() => Interlocked.Increment(ref _registrationRenewals);

    internal void StreamConnectionOpened() => Interlocked.Increment(ref _streamConnectionsOpened);

    internal void StreamConnectionClosed() => Interlocked.Increment(ref _streamConnectionsClosed);

    internal void StreamRequest() => Interlocked.Increment(ref _streamRequests);

    internal void StreamRequestFailed() => Interlocked.Increment(ref _streamRequestErrors);

    internal void StreamLocated(int pages) => Interlocked.Add(ref _streamLocatedPages, pages);

    public long StreamLocatedPages => Volatile.Read(ref _streamLocatedPages);

    internal void StreamSent(int bytes, bool sendfile) => Interlocked.Add(ref sendfile ? ref _streamBytesSendfile : ref _streamBytesCopied, bytes);

    public long CacheMisses => Volatile.Read(ref _cacheMisses);

    public long Evictions => Volatile.Read(ref _evictions);

    public long ChecksumFailures => Volatile.Read(ref _checksumFailures);

    public long CacheWriteFailures => Volatile.Read(ref _cacheWriteFailures);

    public long CoalescedReads => Volatile.Read(ref _coalescedReads);

    public long ReadAheadPages => Volatile.Read(ref _readAheadPages);

    public long UfsBytesRead => Volatile.Read(ref _ufsBytesRead);

    public long MetadataMemoryLookups => Volatile.Read(ref _metadataMemory);

    public long MetadataRocksDbLookups => Volatile.Read(ref _metadataRocksDb);

    public long MetadataUfsLookups => Volatile.Read(ref _metadataUfs);

    /// <summary>RocksDB reads and writes that failed (the lookups were answered without it).</summary>
    public long MetadataDiskFailures => Volatile.Read(ref _metadataDiskFailures);

    /// <summary>Page stream connections closed because the client took frames slower than the minimum data rate.</summary>
    public long StreamSlowReaders => Volatile.Read(ref _streamSlowReaders);

    internal void StreamSlowReaderClosed() => Interlocked.Increment(ref _streamSlowReaders);

    internal void MetadataDiskFailed() => Interlocked.Increment(ref _metadataDiskFailures);

    /// <summary>Pages the scrubber has read and checked.</summary>
    public long ScrubbedPages => Volatile.Read(ref _scrubbedPages);

    /// <summary>Bytes of page files the scrubber has read and checked.</summary>
    public long ScrubbedBytes => Volatile.Read(ref _scrubbedBytes);

    internal void PageScrubbed(long bytes)
    {
        Interlocked.Increment(ref _scrubbedPages);
        Interlocked.Add(ref _scrubbedBytes, bytes);
    }

    internal void CacheHit() => Interlocked.Increment(ref _cacheHits);

    internal void CacheMiss() => Interlocked.Increment(ref _cacheMisses);

    internal void Evicted() => Interlocked.Increment(ref _evictions);

    internal void ChecksumFailed() => Interlocked.Increment(ref _checksumFailures);

    internal void CacheWriteFailed() => Interlocked.Increment(ref _cacheWriteFailures);

    internal void ReadCoalesced() => Interlocked.Increment(ref _coalescedReads);

    internal void ReadAheadStarted() => Interlocked.Increment(ref _readAheadPages);

    internal void UfsRead(long bytes) => Interlocked.Add(ref _ufsBytesRead, bytes);

    internal void MetadataLookup(MetadataLevel level)
    {
        switch (level)
        {
            case MetadataLevel.Memory:
                Interlocked.Increment(ref _metadataMemory);
                break;
            case MetadataLevel.RocksDb:
                Interlocked.Increment(ref _metadataRocksDb);
                break;
            default:
                Interlocked.Increment(ref _metadataUfs);
                break;
        }
    }

    public void Dispose() => _meter.Dispose();
}
