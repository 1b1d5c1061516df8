using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Scheduler;
using Dora.Scheduler.Jobs;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Benchmarks;

/// <summary>
/// P8: a load job over 64 Parquet files (2 GiB) against <c>fio</c> reading the same folder sequentially, both from a
/// cold page cache; and a load job over many small files, in files per second per worker. Two workers and the
/// scheduler run in this process over the local folder.
/// </summary>
internal static class LoadBench
{
    private static readonly int Workers = int.Parse(Environment.GetEnvironmentVariable("DORA_BENCH_WORKERS") ?? "2", CultureInfo.InvariantCulture);

    public static async Task RunAsync(string work, int files, int fileMiB, int smallFiles)
    {
        string root = Path.Combine(work, "load");
        string ufs = Path.Combine(root, "ufs");
        await WriteParquetSetAsync(Path.Combine(ufs, "parquet"), files, fileMiB);
        WriteSmallFiles(Path.Combine(ufs, "small"), smallFiles);
        long totalBytes = Directory.EnumerateFiles(Path.Combine(ufs, "parquet")).Sum(f => new FileInfo(f).Length);
        bool dropped = Measure.TryDropPageCache();
        Console.WriteLine($"P8: {files} Parquet files, {totalBytes >> 20} MiB; {smallFiles:N0} small files of 4 KiB; {Workers} workers and the scheduler in one process; page cache {(dropped ? "dropped before each run" : "NOT dropped (not root)")}");

        double fio = RunFio(Path.Combine(ufs, "parquet"));
        (double doraSeconds, JobDocument bigJob) = await LoadAsync(root, ufs, "/parquet");
        double dora = totalBytes / (double)(1 << 20) / doraSeconds;
        (double smallSeconds, JobDocument smallJob) = await LoadAsync(root, ufs, "/small");
        double perWorker = smallFiles / smallSeconds / Workers;

        Console.WriteLine();
        Console.WriteLine(Measure.Row("P8 cold load", "baseline", "Dora", "ratio"));
        Console.WriteLine(Measure.Row("---", "---:", "---:", "---:"));
        Console.WriteLine(Measure.Row($"{files} Parquet files, {totalBytes >> 20} MiB", $"fio sequential read {F(fio)} MiB/s", $"load job {F(dora)} MiB/s ({doraSeconds:0.00} s, {bigJob.Progress.FilesLoaded} files)", (dora / fio).ToString("0.00", CultureInfo.InvariantCulture)));
        Console.WriteLine(Measure.Row($"{smallFiles:N0} small files", "target 5,000 files/s per worker", $"{F(perWorker)} files/s per worker ({smallSeconds:0.00} s, {smallJob.Progress.FilesLoaded} files)", (perWorker / 5000).ToString("0.00", CultureInfo.InvariantCulture)));
    }

    /// <summary>One Parquet file of about <paramref name="fileMiB"/> MiB (20 double columns), copied <paramref name="files"/> times.</summary>
    private static async Task WriteParquetSetAsync(string folder, int files, int fileMiB)
    {
        string first = Path.Combine(folder, "part-000.parquet");
        await ProjectionBench.WriteAsync(first, 1, fileMiB * (1 << 20) / (20 * 8));
        for (int i = 1; i < files; i++)
        {
            string copy = Path.Combine(folder, $"part-{i:D3}.parquet");
            if (!File.Exists(copy))
            {
                File.Copy(first, copy);
            }
        }
    }

    private static void WriteSmallFiles(string folder, int count)
    {
        if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count() == count)
        {
            return;
        }

        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        for (int i = 0; i < count; i++)
        {
            string directory = Path.Combine(folder, $"d{i / 1000:D3}");
            Directory.CreateDirectory(directory);
            bytes[0] = (byte)i;
            File.WriteAllBytes(Path.Combine(directory, $"f{i:D6}.bin"), bytes);
        }
    }

    /// <summary>MiB/s of fio reading every file of the folder sequentially in 1 MiB reads.</summary>
    private static double RunFio(string folder)
    {
        Measure.TryDropPageCache();
        var start = new ProcessStartInfo("fio", ["--name=ufs", $"--opendir={folder}", "--rw=read", "--bs=1M", "--ioengine=psync", "--numjobs=1", "--output-format=json"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process fio = Process.Start(start) ?? throw new InvalidOperationException("cannot start fio");
        string output = fio.StandardOutput.ReadToEnd();
        fio.WaitForExit();
        // fio prints a note ("opendir added N files") before its JSON.
        using JsonDocument json = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]);
        double bytesPerSecond = json.RootElement.GetProperty("jobs")[0].GetProperty("read").GetProperty("bw_bytes").GetDouble();
        return bytesPerSecond / (1 << 20);
    }

    /// <summary>Runs a load job over <paramref name="path"/> with empty caches and a cold page cache; returns its seconds.</summary>
    private static async Task<(double Seconds, JobDocument Job)> LoadAsync(string root, string ufs, string path)
    {
        string cache = CacheFolder(root);
        await using LocalCluster cluster = await StartWorkersAsync(Workers, ufs, cache);
        await using SchedulerHost scheduler = await SchedulerHost.StartAsync(
            new SchedulerOptions { Directory = Path.Combine(cache, "scheduler"), Port = 0 }, cluster.Registry);
        Measure.TryDropPageCache();
        Console.WriteLine($"loading {path} ...");
        var watch = Stopwatch.StartNew();
        JobDocument job = scheduler.Jobs.Submit(new LoadJobSpec { Path = path });
        while (!job.State.IsFinished())
        {
            await Task.Delay(20);
            job = scheduler.Jobs.Get(job.Id)!;
        }

        double seconds = watch.Elapsed.TotalSeconds;
        if (job.State != JobState.Succeeded)
        {
            throw new InvalidOperationException($"the load job {job.State}: {job.Error}");
        }

        return (seconds, job);
    }

    /// <summary>An empty cache folder: <c>DORA_BENCH_CACHE</c> (a cache on another device), else one under the work folder.</summary>
    internal static string CacheFolder(string root)
    {
        string cache = Environment.GetEnvironmentVariable("DORA_BENCH_CACHE") ?? Path.Combine(root, "cache");
        if (Directory.Exists(cache))
        {
            Directory.Delete(cache, recursive: true);
        }

        return cache;
    }

    /// <summary>Workers over the local folder with 8 GiB caches under <paramref name="cache"/>.</summary>
    internal static Task<LocalCluster> StartWorkersAsync(int count, string ufs, string cache) => LocalCluster.StartAsync(count, i => new WorkerOptions
    {
        Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(ufs), ConsistencyMode.Immutable)]),
        Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(Path.Combine(cache, $"worker-{i}", "pages"), 8L << 30)] },
        Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(cache, $"worker-{i}", "metadata") },
        HttpPort = 0,
        Stream = new() { Port = 0 },
    }, configureLogging: null, CancellationToken.None);

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);
}

/// <summary>The storage engine's LOAD alone (one worker, no scheduler, no page stream): where P8's time goes.</summary>
internal static class LoadEngineProbe
{
    public static async Task RunAsync(string work, int concurrency)
    {
        string ufs = Path.Combine(work, "load", "ufs");
        await using LocalCluster cluster = await LoadBench.StartWorkersAsync(1, ufs, LoadBench.CacheFolder(Path.Combine(work, "load")));
        var engine = cluster.Workers[0].Engine;
        string[] files = [.. Directory.GetFiles(Path.Combine(ufs, "parquet")).Select(f => "/parquet/" + Path.GetFileName(f))];
        Measure.TryDropPageCache();
        var watch = Stopwatch.StartNew();
        int next = -1;
        long bytes = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < files.Length)
            {
                var reply = await engine.LoadAsync(DoraPath.Parse(files[i]), 0, null, refresh: false, CancellationToken.None);
                Interlocked.Add(ref bytes, reply.Length);
            }
        }));
        Console.WriteLine($"engine LoadAsync of {files.Length} files, {concurrency} at once: {bytes / (double)(1 << 20) / watch.Elapsed.TotalSeconds:0} MiB/s");
    }
}
