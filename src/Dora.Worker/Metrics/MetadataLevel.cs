namespace Dora.Worker.Metrics;

/// <summary>Where a metadata lookup was answered.</summary>
public enum MetadataLevel
{
    Memory,
    RocksDb,
    Ufs,
}
