using System.Diagnostics.Metrics;

namespace Dora.Worker.Metrics;

/// <summary>
/// The worker's counters. Hot paths bump plain fields with <see cref="Interlocked"/>; <c>/metrics</c> renders them in
/// the Prometheus text format, and the same values are published through a <see cref="Meter"/> named
/// <c>Dora.Worker</c> for OpenTelemetry users.
/// </summary>
public sealed class WorkerMetrics : IDisposable
{
    private readonly Meter _meter = new("Dora.Worker");
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

    public WorkerMetrics()
    {
        _meter.CreateObservableCounter("dora.cache.hits", () => CacheHits, description: "Page reads served from the cache.");
        _meter.CreateObservableCounter("dora.cache.misses", () => CacheMisses, description: "Page reads that went to the under storage.");
        _meter.CreateObservableCounter("dora.cache.evictions", () => Evictions, description: "Pages evicted to make room.");
        _meter.CreateObservableCounter("dora.page.checksum_failures", () => ChecksumFailures, description: "Cached pages found corrupt and refetched.");
        _meter.CreateObservableGauge("dora.registry.registered", () => Registered, description: "1 while the worker holds its registration.");
        _meter.CreateObservableCounter("dora.registry.renewals", () => RegistrationRenewals, description: "Registrations renewed after a lost lease.");
        _meter.CreateObservableUpDownCounter("dora.stream.connections", () => StreamConnections, description: "Page stream connections open now.");
        _meter.CreateObservableCounter("dora.stream.requests", () => StreamRequests, description: "Page stream requests (READ, STAT, LIST) received.");
        _meter.CreateObservableCounter("dora.stream.request_errors", () => StreamRequestErrors, description: "Page stream requests answered with an error.");
        _meter.CreateObservableCounter("dora.stream.sent_bytes", () => new[]
        {
            new Measurement<long>(StreamBytesSendfile, new KeyValuePair<string, object?>("mode", "sendfile")),
            new Measurement<long>(StreamBytesCopied, new KeyValuePair<string, object?>("mode", "copy")),
        }, unit: "By", description: "File bytes sent on the page stream, by how they left.");
        _meter.CreateObservableCounter("dora.metadata.lookups", () => new[]
        {
            new Measurement<long>(MetadataMemoryLookups, new KeyValuePair<string, object?>("level", "memory")),
            new Measurement<long>(MetadataRocksDbLookups, new KeyValuePair<string, object?>("level", "rocksdb")),
            new Measurement<long>(MetadataUfsLookups, new KeyValuePair<string, object?>("level", "ufs")),
        });
    }

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
