using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Worker.Metadata;
using Dora.Worker.Metrics;
using Dora.Worker.Pages;
using Dora.Worker.Reading;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dora.Benchmarks;

/// <summary>Builds a storage engine over a folder with its cache in a work folder, as a worker would.</summary>
internal static class EngineBench
{
    public static StorageEngine Open(string ufsRoot, string cacheRoot, int pageSize, long quota, IUnderStorage? storage = null, int memoryEntries = 1_000_000)
    {
        var mounts = new MountTable([new Mount(DoraPath.Root, storage ?? new LocalUnderStorage(ufsRoot), ConsistencyMode.Immutable)]);
        return new StorageEngine(
            mounts,
            new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cacheRoot, "pages"), quota)], PageSize = pageSize },
            new MetadataOptions { DatabaseDirectory = Path.Combine(cacheRoot, "metadata"), MemoryMaxEntries = memoryEntries },
            new StorageEngineOptions { ReadAheadPages = int.Parse(Environment.GetEnvironmentVariable("DORA_READAHEAD") ?? "4", System.Globalization.CultureInfo.InvariantCulture) },
            new WorkerMetrics(),
            NullLogger.Instance);
    }

    public static void WriteFile(string path, long length)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (File.Exists(path) && new FileInfo(path).Length == length)
        {
            return;
        }

        var buffer = new byte[1 << 20];
        var random = new Random(1);
        using var stream = File.Create(path);
        for (long written = 0; written < length; written += buffer.Length)
        {
            random.NextBytes(buffer);
            stream.Write(buffer, 0, (int)Math.Min(buffer.Length, length - written));
        }
    }
}
