using System.IO.Enumeration;
using System.Text.Json;
using Dora.Worker.Pages.Eviction;

namespace Dora.Worker.Pages;

/// <summary>
/// One cache folder: its quota, the bytes used, its eviction order and whether it is usable right now. The lock
/// guards the policy and <see cref="PageEntry"/> policy membership; quota accounting is done under it too.
/// </summary>
internal sealed class CacheDirectory
{
    private const string ManifestName = "dora-pages.json";

    private readonly Lock _lock = new();
    private readonly IEvictionPolicy _policy;
    private readonly string _pagesRoot;
    private readonly HashSet<PageEntry> _members = new(ReferenceEqualityComparer.Instance);
    private readonly int _pageSize;
    private long _usedBytes;
    private long _degradedUntilTicks;
    private string? _degradedReason;

    public CacheDirectory(CacheDirectoryOptions options, EvictionPolicyKind eviction, int pageSize)
    {
        Root = Path.GetFullPath(options.Path);
        QuotaBytes = options.QuotaBytes;
        _pageSize = pageSize;
        DataOffset = PageFileFormat.DataOffset(pageSize);
        _pagesRoot = Path.Combine(Root, "pages");
        _policy = EvictionPolicyFactory.Create(eviction, options.QuotaBytes);
    }

    public string Root { get; }

    public long QuotaBytes { get; }

    /// <summary>Where the data starts in this directory's page files.</summary>
    public int DataOffset { get; }

    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    /// <summary>False while the directory is bypassed after a failure.</summary>
    public bool IsAvailable => Environment.TickCount64 >= Interlocked.Read(ref _degradedUntilTicks);

    /// <summary>Why the directory is bypassed now, or null while it is available.</summary>
    public string? DegradedReason => IsAvailable ? null : Volatile.Read(ref _degradedReason);

    /// <summary>Bypasses the directory for <paramref name="retryAfter"/> (forever with <see cref="Timeout.InfiniteTimeSpan"/>).</summary>
    public void MarkDegraded(TimeSpan retryAfter, string reason)
    {
        Volatile.Write(ref _degradedReason, reason);
        long until = retryAfter == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)retryAfter.TotalMilliseconds;
        Interlocked.Exchange(ref _degradedUntilTicks, until);
    }

    public string PathOf(PageKey key, long generation) =>
        Path.Combine(_pagesRoot, PageFileFormat.BucketName(key.File), PageFileFormat.FileName(key, generation));

    /// <summary>
    /// Creates the folder and checks its manifest. Pages written with another page size (or format) cannot be read, so
    /// they are deleted. Throws IOException/UnauthorizedAccessException when the folder is unusable.
    /// </summary>
    public void Prepare()
    {
        Directory.CreateDirectory(Root);
        var manifestPath = Path.Combine(Root, ManifestName);
        var expected = new PageStoreManifest(PageFileFormat.Version, _pageSize);
        if (File.Exists(manifestPath) && ReadManifest(manifestPath) == expected && Directory.Exists(_pagesRoot))
        {
            return;
        }

        if (Directory.Exists(_pagesRoot))
        {
            Directory.Delete(_pagesRoot, recursive: true);
        }

        Directory.CreateDirectory(_pagesRoot);
        var temporary = manifestPath + PageFileFormat.TemporaryExtension;
        File.WriteAllText(temporary, JsonSerializer.Serialize(expected));
        File.Move(temporary, manifestPath, overwrite: true);
    }

    /// <summary>
    /// Lists the page files left by an earlier run, oldest first, deleting temporary files, files Dora did not write,
    /// files too short or too long to be a page, and older generations of a page. Reads no page contents.
    /// </summary>
    public List<FoundPage> Scan()
    {
        var newest = new Dictionary<PageKey, FoundPage>();
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        var files = new FileSystemEnumerable<FoundPage?>(
            _pagesRoot,
            (ref FileSystemEntry entry) => ToFoundPage(ref entry, DataOffset, _pageSize),
            options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) => !entry.IsDirectory,
        };

        foreach (var found in files)
        {
            if (found is not { } page || page.Key.Index < 0)
            {
                continue;
            }

            if (newest.TryGetValue(page.Key, out var other))
            {
                var (keep, drop) = other.Generation > page.Generation ? (other, page) : (page, other);
                newest[page.Key] = keep;
                TryDelete(PathOf(drop.Key, drop.Generation));
            }
            else
            {
                newest.Add(page.Key, page);
            }
        }

        var pages = newest.Values.ToList();
        pages.Sort((a, b) => a.LastWriteUtcTicks.CompareTo(b.LastWriteUtcTicks));
        return pages;
    }

    /// <summary>
    /// Makes room for <paramref name="bytes"/> by evicting pages nobody is reading; evicted pages are appended to
    /// <paramref name="victims"/> for the caller to delete outside the lock. False when not enough could be freed
    /// (the caller then serves the page without caching it).
    /// </summary>
    public bool TryReserve(long bytes, List<PageEntry> victims)
    {
        if (bytes > QuotaBytes)
        {
            return false;
        }

        lock (_lock)
        {
            while (_usedBytes + bytes > QuotaBytes)
            {
                var victim = _policy.Evict(static entry => entry.TryClaimForRemoval());
                if (victim is null)
                {
                    return false;
                }

                _members.Remove(victim);
                _usedBytes -= victim.DiskBytes;
                victims.Add(victim);
            }

            _usedBytes += bytes;
            return true;
        }
    }

    /// <summary>Gives back a reservation whose page was never written.</summary>
    public void CancelReservation(long bytes)
    {
        lock (_lock)
        {
            _usedBytes -= bytes;
        }
    }

    /// <summary>Adds a written page (its bytes already reserved) and publishes it through <paramref name="publish"/> under the lock.</summary>
    public void Add(PageEntry entry, Action<PageEntry> publish)
    {
        lock (_lock)
        {
            _members.Add(entry);
            _policy.Add(entry);
            publish(entry);
        }
    }

    /// <summary>Adds a page found at start-up, counting its bytes.</summary>
    public void AddRecovered(PageEntry entry)
    {
        lock (_lock)
        {
            _members.Add(entry);
            _policy.Add(entry);
            _usedBytes += entry.DiskBytes;
        }
    }

    public void Touch(PageEntry entry)
    {
        lock (_lock)
        {
            if (_members.Contains(entry))
            {
                _policy.Touch(entry);
            }
        }
    }

    /// <summary>Takes a page out of the eviction order and the quota (it is being removed for another reason).</summary>
    public void Forget(PageEntry entry)
    {
        lock (_lock)
        {
            if (_members.Remove(entry))
            {
                _policy.Remove(entry);
                _usedBytes -= entry.DiskBytes;
            }
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A page file that cannot be deleted is harmless: it is no longer indexed, and the next start-up scan
            // removes it.
        }
    }

    private static PageStoreManifest? ReadManifest(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<PageStoreManifest>(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static FoundPage? ToFoundPage(ref FileSystemEntry entry, int dataOffset, int pageSize)
    {
        var name = entry.FileName;
        var valid = PageFileFormat.TryParseFileName(name, out var key, out var generation)
            && entry.Length > dataOffset
            && entry.Length <= dataOffset + (long)pageSize
            && entry.Directory.EndsWith(PageFileFormat.BucketName(key.File), StringComparison.Ordinal);
        if (!valid)
        {
            // Temporary files of an interrupted write, and anything else, are not ours to serve.
            TryDelete(entry.ToFullPath());
            return null;
        }

        return new FoundPage(key, generation, (int)(entry.Length - dataOffset), entry.LastWriteTimeUtc.UtcTicks);
    }

    internal sealed record PageStoreManifest(int Format, int PageSize);

    internal readonly record struct FoundPage(PageKey Key, long Generation, int Length, long LastWriteUtcTicks);
}
