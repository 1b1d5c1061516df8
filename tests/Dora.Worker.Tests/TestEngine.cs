using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.TestSupport;
using Dora.Worker.Metadata;
using Dora.Worker.Metrics;
using Dora.Worker.Pages;
using Dora.Worker.Pages.Eviction;
using Dora.Worker.Reading;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Worker.Tests;

/// <summary>
/// A real storage engine over a real folder, with its cache and RocksDB in a temporary directory. Reopen() simulates a
/// worker restart over the same cache.
/// </summary>
internal sealed class TestEngine : IDisposable
{
    private readonly TemporaryDirectory _temp = new("engine");

    public TestEngine(int pageSize = 16 * 1024, long quota = 64L << 20, EvictionPolicyKind eviction = EvictionPolicyKind.Lru, ConsistencyMode consistency = ConsistencyMode.Ttl, TimeSpan? ttl = null, int readAheadPages = 0, int maxConcurrentLoads = 64)
    {
        MaxConcurrentLoads = maxConcurrentLoads;
        PageSize = pageSize;
        Quota = quota;
        Eviction = eviction;
        Consistency = consistency;
        Ttl = ttl;
        ReadAheadPages = readAheadPages;
        UfsRoot = _temp.Combine("ufs");
        CacheRoot = _temp.Combine("cache");
        Directory.CreateDirectory(UfsRoot);
        Engine = Open();
    }

    public string UfsRoot { get; }

    public string CacheRoot { get; set; }

    public int PageSize { get; set; }

    public long Quota { get; }

    public EvictionPolicyKind Eviction { get; }

    public ConsistencyMode Consistency { get; }

    public TimeSpan? Ttl { get; }

    public int ReadAheadPages { get; }

    public int MaxConcurrentLoads { get; }

    public StorageEngine Engine { get; private set; }

    public CountingUnderStorage Ufs { get; private set; } = null!;

    public WorkerMetrics Metrics => Engine.Metrics;

    public PageStore Pages => Engine.Pages;

    public byte[] WriteFile(string relativePath, int length, int seed) => TestFiles.Write(Path.Combine(UfsRoot, relativePath), length, seed);

    public async Task<byte[]> ReadAsync(string path, long offset, int length)
    {
        var buffer = new byte[length];
        var read = await Engine.ReadAsync(DoraPath.Parse(path), offset, buffer, default).Within();

        // Pages are written behind the reader; tests look at the cache only once it is settled.
        await Engine.Pages.WhenIdleAsync(default).Within();
        return buffer.AsSpan(0, read).ToArray();
    }

    /// <summary>Stops the engine and starts a new one over the same cache and metadata (a worker restart).</summary>
    public void Reopen()
    {
        Engine.Dispose();
        Engine = Open();
    }

    /// <summary>Flips one byte of a page file in place, through the file system (as a stray write would).</summary>
    public static void FlipByte(string pageFile, long position)
    {
        using var stream = new FileStream(pageFile, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = position;
        var b = stream.ReadByte();
        stream.Position = position;
        stream.WriteByte((byte)(b ^ 0xFF));
    }

    /// <summary>The page file of page <paramref name="index"/> (of any cached file: tests cache one file).</summary>
    /// <summary>
    /// The file of page <paramref name="index"/>, once every page write under way has finished: a read returns as soon as
    /// its bytes are in memory, before the page reaches disk (on a busy disk, well before).
    /// </summary>
    public string PageFile(long index)
    {
        Engine.Pages.WhenIdleAsync(CancellationToken.None).WaitAsync(TestTimeouts.Default).GetAwaiter().GetResult();
        return PageFiles().Single(f => Path.GetFileName(f).Contains($"_{index}_", StringComparison.Ordinal));
    }

    public IEnumerable<string> PageFiles() => Directory.EnumerateFiles(Path.Combine(CacheRoot, "pages"), "*.page", SearchOption.AllDirectories);

    public void Dispose()
    {
        Engine.Dispose();
        _temp.Dispose();
    }

    private StorageEngine Open()
    {
        Ufs = new CountingUnderStorage(new LocalUnderStorage(UfsRoot));
        var mounts = new MountTable([new Mount(DoraPath.Root, Ufs, Consistency, Ttl)]);
        var pages = new PageStoreOptions
        {
            Directories = [new CacheDirectoryOptions(CacheRoot, Quota)],
            PageSize = PageSize,
            Eviction = Eviction,
            MaxConcurrentLoads = MaxConcurrentLoads,
        };
        var metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(_temp.Path, "metadata") };
        return new StorageEngine(mounts, pages, metadata, new StorageEngineOptions { ReadAheadPages = ReadAheadPages }, new WorkerMetrics(), NullLogger.Instance);
    }
}
