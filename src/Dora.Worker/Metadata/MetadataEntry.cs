using Dora.Core.UnderStorage;

namespace Dora.Worker.Metadata;

/// <summary>What the metadata store knows of one key.</summary>
internal enum MetadataEntryKind : byte
{
    /// <summary>The status of an existing file or directory.</summary>
    Status = 1,

    /// <summary>The path does not exist (a negative entry).</summary>
    Missing = 2,

    /// <summary>One page of a directory listing.</summary>
    Listing = 3,
}

/// <summary>
/// One cached fact with two clocks: <see cref="ValidatedAtMs"/>, when it was last checked against the under storage
/// (what consistency modes look at; 0 after an explicit invalidation), and <see cref="StoredAtMs"/>, when it entered the
/// cache (what retention TTLs look at). Times are Unix milliseconds.
/// </summary>
internal sealed record MetadataEntry(
    MetadataEntryKind Kind,
    UfsFileStatus? Status,
    UfsListingPage? Listing,
    long ValidatedAtMs,
    long StoredAtMs)
{
    public MetadataEntry Invalidated() => this with { ValidatedAtMs = 0 };
}
