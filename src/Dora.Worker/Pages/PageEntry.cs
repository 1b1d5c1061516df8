namespace Dora.Worker.Pages;

/// <summary>
/// A page that exists as a file in a cache directory. Readers pin it while they read; eviction and removal only
/// take a page whose pin count they can swing from 0 to <see cref="Removed"/>, so a page being read is never deleted.
/// </summary>
internal sealed class PageEntry
{
    private const int Removed = -1;

    private int _pins;
    private int _doomed;

    private long _verifiedChangeNs;
    private int _verified;

    /// <summary>A page that has not been checked yet (found on disk at start-up).</summary>
    public PageEntry(PageKey key, CacheDirectory directory, long generation, int length)
    {
        Key = key;
        Directory = directory;
        Generation = generation;
        Length = length;
    }

    public PageKey Key { get; }

    public CacheDirectory Directory { get; }

    /// <summary>Distinguishes successive files for the same key, so deleting an old one never hits a newer one.</summary>
    public long Generation { get; }

    /// <summary>Data bytes in the page (the last page of a file is shorter).</summary>
    public int Length { get; }

    /// <summary>Bytes the page takes on disk, header included; what quotas count.</summary>
    public long DiskBytes => Directory.DataOffset + Length;

    /// <summary>
    /// True once the whole file was checked against its checksums (or written by this process); false for pages found
    /// on disk at start-up until their first read.
    /// </summary>
    public bool Verified => Volatile.Read(ref _verified) != 0;

    /// <summary>
    /// The file's change time (ns) when it was last checked whole. A page file changed through the file system since
    /// (any write changes it, and nothing sets it back) is checked again before it is sent without reading it.
    /// </summary>
    public long VerifiedChangeNs => Interlocked.Read(ref _verifiedChangeNs);

    /// <summary>Records that the whole file was found intact while its change time was <paramref name="changeNs"/>.</summary>
    public void MarkVerified(long changeNs)
    {
        Interlocked.Exchange(ref _verifiedChangeNs, changeNs);
        Volatile.Write(ref _verified, 1);
    }

    public bool IsRemoved => Volatile.Read(ref _pins) == Removed;

    // Links and counters owned by the eviction policy; only touched under the directory's lock.
    internal PageEntry? Previous { get; set; }

    internal PageEntry? Next { get; set; }

    internal int Frequency { get; set; }

    internal byte Queue { get; set; }

    public bool TryPin()
    {
        while (true)
        {
            var pins = Volatile.Read(ref _pins);
            if (pins == Removed || Volatile.Read(ref _doomed) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _pins, pins + 1, pins) == pins)
            {
                return true;
            }
        }
    }

    /// <summary>Releases a pin; returns true when the caller must now delete the page (it was doomed and this was the last pin).</summary>
    public bool Unpin()
    {
        var pins = Interlocked.Decrement(ref _pins);
        return pins == 0 && Volatile.Read(ref _doomed) != 0 && TryClaimForRemoval();
    }

    /// <summary>Takes the page for removal if nobody reads it.</summary>
    public bool TryClaimForRemoval() => Interlocked.CompareExchange(ref _pins, Removed, 0) == 0;

    /// <summary>
    /// Marks the page for removal once its readers are done; returns true when it could be claimed at once.
    /// </summary>
    public bool Doom()
    {
        Volatile.Write(ref _doomed, 1);
        return TryClaimForRemoval();
    }
}
