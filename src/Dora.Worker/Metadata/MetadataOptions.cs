namespace Dora.Worker.Metadata;

/// <summary>Settings of the two-level metadata store. Every default is stated here.</summary>
public sealed record MetadataOptions
{
    /// <summary>Folder of the RocksDB database (level 2).</summary>
    public required string DatabaseDirectory { get; init; }

    /// <summary>
    /// Most entries kept in memory (level 1). Default 1,000,000: about 300 MB at the typical entry size, and enough
    /// for the hot set of a worker; the rest is answered from RocksDB.
    /// </summary>
    public int MemoryMaxEntries { get; init; } = 1_000_000;

    /// <summary>How long an entry stays in memory after it was stored, whatever its use. Default 10 minutes.</summary>
    public TimeSpan MemoryTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an entry is kept in RocksDB. Default 7 days; expired entries are removed by a periodic sweep.</summary>
    public TimeSpan DiskTtl { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long "no such file" is believed. Default 5 s: short, because a missing file is often about to be written.
    /// </summary>
    public TimeSpan NegativeTtl { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest listing page served; larger requests are refused. Default 10,000 entries.</summary>
    public int MaxListingPage { get; init; } = 10_000;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DatabaseDirectory))
        {
            throw new ArgumentException("MetadataOptions.DatabaseDirectory is required.");
        }

        if (MemoryMaxEntries < 1)
        {
            throw new ArgumentException($"MetadataOptions.MemoryMaxEntries must be at least 1 (was {MemoryMaxEntries}).");
        }

        if (MemoryTtl <= TimeSpan.Zero || DiskTtl <= TimeSpan.Zero || NegativeTtl < TimeSpan.Zero)
        {
            throw new ArgumentException($"MetadataOptions TTLs must be positive (memory {MemoryTtl}, disk {DiskTtl}, negative {NegativeTtl}).");
        }

        if (MaxListingPage < 1)
        {
            throw new ArgumentException($"MetadataOptions.MaxListingPage must be at least 1 (was {MaxListingPage}).");
        }
    }
}
