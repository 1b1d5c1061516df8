using System.Globalization;
using System.Text;
using Dora.Worker.Reading;

namespace Dora.Worker.Metrics;

/// <summary>Renders the worker's metrics in the Prometheus text exposition format (version 0.0.4).</summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(StorageEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var m = engine.Metrics;
        var text = new StringBuilder(2048);
        Counter(text, "dora_cache_hits_total", "Page reads served from the cache.", m.CacheHits);
        Counter(text, "dora_cache_misses_total", "Page reads that went to the under storage.", m.CacheMisses);
        Counter(text, "dora_cache_evictions_total", "Pages evicted to make room for others.", m.Evictions);
        Counter(text, "dora_page_checksum_failures_total", "Cached pages found corrupt or missing, dropped and refetched.", m.ChecksumFailures);
        Counter(text, "dora_cache_write_failures_total", "Page writes that failed; the page was served without caching.", m.CacheWriteFailures);
        Counter(text, "dora_cache_coalesced_reads_total", "Misses that joined an under-storage read already in flight.", m.CoalescedReads);
        Counter(text, "dora_cache_readahead_pages_total", "Pages fetched ahead of sequential readers.", m.ReadAheadPages);
        Counter(text, "dora_ufs_read_bytes_total", "Bytes read from under storages.", m.UfsBytesRead);
        Gauge(text, "dora_cache_used_bytes", "Bytes of pages on disk, headers included.", engine.Pages.UsedBytes);
        Gauge(text, "dora_cache_capacity_bytes", "Sum of the cache directories' quotas.", engine.Pages.CapacityBytes);
        Gauge(text, "dora_cache_pages", "Pages in the cache.", engine.Pages.PageCount);
        Gauge(text, "dora_cache_directories_unavailable", "Cache directories bypassed after a failure.", engine.Pages.UnavailableDirectories);
        Gauge(text, "dora_metadata_memory_entries", "Metadata entries held in memory.", engine.Metadata.MemoryEntries);
        Gauge(text, "dora_registry_registered", "1 while the worker holds its registration in the registry.", m.Registered);
        Counter(text, "dora_registry_renewals_total", "Registrations renewed after a lost lease.", m.RegistrationRenewals);
        Gauge(text, "dora_stream_connections", "Page stream connections open now.", m.StreamConnections);
        Counter(text, "dora_stream_requests_total", "Page stream requests (READ, STAT, LIST) received.", m.StreamRequests);
        Counter(text, "dora_stream_request_errors_total", "Page stream requests answered with an error.", m.StreamRequestErrors);
        text.Append("# HELP dora_stream_sent_bytes_total File bytes sent on the page stream, by how they left (sendfile or copy).\n");
        text.Append("# TYPE dora_stream_sent_bytes_total counter\n");
        Sample(text, "dora_stream_sent_bytes_total{mode=\"sendfile\"}", m.StreamBytesSendfile);
        Sample(text, "dora_stream_sent_bytes_total{mode=\"copy\"}", m.StreamBytesCopied);
        text.Append("# HELP dora_metadata_lookups_total Metadata lookups by the level that answered them.\n");
        text.Append("# TYPE dora_metadata_lookups_total counter\n");
        Sample(text, "dora_metadata_lookups_total{level=\"memory\"}", m.MetadataMemoryLookups);
        Sample(text, "dora_metadata_lookups_total{level=\"rocksdb\"}", m.MetadataRocksDbLookups);
        Sample(text, "dora_metadata_lookups_total{level=\"ufs\"}", m.MetadataUfsLookups);
        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, long value) => Family(text, name, help, "counter", value);

    private static void Gauge(StringBuilder text, string name, string help, long value) => Family(text, name, help, "gauge", value);

    private static void Family(StringBuilder text, string name, string help, string type, long value)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        Sample(text, name, value);
    }

    private static void Sample(StringBuilder text, string series, long value) =>
        text.Append(series).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
