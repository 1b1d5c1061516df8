using Dora.Core.Metrics;
using Dora.Worker.Reading;

namespace Dora.Worker.Metrics;

/// <summary>Renders the worker's metrics in the Prometheus text exposition format (version 0.0.4).</summary>
public static class PrometheusText
{
    public const string ContentType = PrometheusWriter.ContentType;

    public static string Render(StorageEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var m = engine.Metrics;
        var text = new PrometheusWriter();
        text.Counter("dora_cache_hits_total", "Page reads served from the cache.", m.CacheHits);
        text.Counter("dora_cache_misses_total", "Page reads that went to the under storage.", m.CacheMisses);
        text.Counter("dora_cache_evictions_total", "Pages evicted to make room for others.", m.Evictions);
        text.Counter("dora_page_checksum_failures_total", "Cached pages found corrupt or missing, dropped and refetched.", m.ChecksumFailures);
        text.Counter("dora_cache_write_failures_total", "Page writes that failed; the page was served without caching.", m.CacheWriteFailures);
        text.Counter("dora_cache_coalesced_reads_total", "Misses that joined an under-storage read already in flight.", m.CoalescedReads);
        text.Counter("dora_cache_readahead_pages_total", "Pages fetched ahead of sequential readers.", m.ReadAheadPages);
        text.Counter("dora_ufs_read_bytes_total", "Bytes read from under storages.", m.UfsBytesRead);
        text.Gauge("dora_cache_used_bytes", "Bytes of pages on disk, headers included.", engine.Pages.UsedBytes);
        text.Gauge("dora_cache_capacity_bytes", "Sum of the cache directories' quotas.", engine.Pages.CapacityBytes);
        text.Gauge("dora_cache_pages", "Pages in the cache.", engine.Pages.PageCount);
        text.Gauge("dora_cache_directories_unavailable", "Cache directories bypassed after a failure.", engine.Pages.UnavailableDirectories);
        text.Gauge("dora_metadata_memory_entries", "Metadata entries held in memory.", engine.Metadata.MemoryEntries);
        text.Gauge("dora_registry_registered", "1 while the worker holds its registration in the registry.", m.Registered);
        text.Counter("dora_registry_renewals_total", "Registrations renewed after a lost lease.", m.RegistrationRenewals);
        text.Gauge("dora_stream_connections", "Page stream connections open now.", m.StreamConnections);
        text.Counter("dora_stream_requests_total", "Page stream requests (READ, STAT, LIST) received.", m.StreamRequests);
        text.Counter("dora_stream_request_errors_total", "Page stream requests answered with an error.", m.StreamRequestErrors);
        text.Header("dora_stream_sent_bytes_total", "File bytes sent on the page stream, by how they left (sendfile or copy).", "counter");
        text.Sample("dora_stream_sent_bytes_total{mode=\"sendfile\"}", m.StreamBytesSendfile);
        text.Sample("dora_stream_sent_bytes_total{mode=\"copy\"}", m.StreamBytesCopied);
        text.Header("dora_metadata_lookups_total", "Metadata lookups by the level that answered them.", "counter");
        text.Sample("dora_metadata_lookups_total{level=\"memory\"}", m.MetadataMemoryLookups);
        text.Sample("dora_metadata_lookups_total{level=\"rocksdb\"}", m.MetadataRocksDbLookups);
        text.Sample("dora_metadata_lookups_total{level=\"ufs\"}", m.MetadataUfsLookups);
        return text.ToString();
    }
}
