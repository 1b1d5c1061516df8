using System.CommandLine;
using Dora.Cli.CommandLine;
using Dora.Core.Mounts;
using Dora.Core.Units;
using Dora.Fuse;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.Commands;

/// <summary>
/// <c>dora mount MOUNTPOINT</c>: the cluster as a read-only POSIX file system (FUSE, docs/fuse.md), in the foreground
/// until Ctrl+C or SIGTERM, which unmount it. <c>dora umount MOUNTPOINT</c> detaches a mount, also one whose process died.
/// </summary>
internal static class MountCommand
{
    public static Command Create()
    {
        var command = new Command("mount", "show the cluster as a read-only file system at MOUNTPOINT (FUSE; needs root), until Ctrl+C")
        {
            new Argument<string>("MOUNTPOINT") { Description = "an existing, empty directory" },
        };
        CliOptions.AddTo(
            command,
            CliOptions.Value("--consistency", "MODE", "kernel caching: immutable (keep file data and attributes), ttl (for --ttl seconds; default) or always (none: direct I/O)"),
            CliOptions.Value("--ttl", "SECONDS", "attribute and entry lifetime of the ttl mode (default 60)"),
            CliOptions.Value("--uid", "UID", "owner of every file (default: the user who mounts)"),
            CliOptions.Value("--gid", "GID", "group of every file (default: the group of the user who mounts)"),
            CliOptions.Flag("--allow-other", "let other users see the files (FUSE's allow_other)"),
            CliOptions.Flag("--no-local-reads", "always read over the network, even from a worker on this host (default: its page files are read directly)"),
            CliOptions.Value("--read-around", "SIZE", "a read of at most an eighth of SIZE that misses the kernel's cache fetches the SIZE window around it into the cache (default 1MiB, at most 1MiB; 0 turns it off)"));
        ClientSession.AddOptions(command);
        return command;
    }

    public static async Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string mountPoint = Path.GetFullPath(reader.Argument("MOUNTPOINT") ?? throw new UsageException("a mount point is required"));
        var options = new FuseMountOptions
        {
            MountPoint = mountPoint,
            Consistency = WorkerSettings.ParseEnum<ConsistencyMode>(reader.String("--consistency") ?? "ttl", "--consistency"),
            Ttl = TimeSpan.FromSeconds(reader.Int("--ttl", 60, 0, 86_400 * 365)),
            Uid = (uint)reader.Int("--uid", (int)ProcessIdentity.UserId, 0, int.MaxValue),
            Gid = (uint)reader.Int("--gid", (int)ProcessIdentity.GroupId, 0, int.MaxValue),
            AllowOther = reader.Flag("--allow-other"),
            ReadAround = ReadAroundOf(reader),
            LocalReads = !reader.Flag("--no-local-reads"),
        };
        var (registry, clientOptions) = ClientSession.Read(reader);
        await using var session = await ClientSession.ConnectAsync(registry, clientOptions, cancellationToken).ConfigureAwait(false);
        using ILoggerFactory logging = LoggerFactory.Create(builder => builder.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ "; o.UseUtcTimestamp = true; }).SetMinimumLevel(LogLevel.Warning));
        await using var fileSystem = new DoraFuseFileSystem(session.Client, options, logging.CreateLogger("Dora.Fuse"));
        try
        {
            fileSystem.Start();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"dora mount: {e.Message}");
            return 1;
        }

        Console.WriteLine($"dora mount: {session.Client.Cluster.Membership.Workers.Count} workers at {mountPoint} (read-only, {options.Consistency.ToString().ToLowerInvariant()}); Ctrl+C to unmount");
        using var status = new PeriodicTimer(TimeSpan.FromSeconds(10));
        Task ended = fileSystem.Completion;
        try
        {
            while (!ended.IsCompleted)
            {
                Task tick = status.WaitForNextTickAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(ended, tick).ConfigureAwait(false) == tick)
                {
                    await tick.ConfigureAwait(false);
                    FuseCounters served = fileSystem.Counters;
                    Console.WriteLine($"dora mount: {served.Requests} requests, {served.Reads} reads, {ByteSize.Format(served.Bytes)} read, {ByteSize.Format(served.LocalBytes)} of it from local page files, {ByteSize.Format(served.ReadAroundBytes)} read around into the page cache, {served.Inodes} inodes known");
                }
            }

            Console.WriteLine($"dora mount: {mountPoint} was unmounted");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Console.WriteLine($"dora mount: unmounting {mountPoint}");
        }

        return 0;
    }

    private static int ReadAroundOf(ArgumentReader reader)
    {
        long window = reader.String("--read-around") == "0" ? 0 : reader.Bytes("--read-around", 1 << 20);
        if (window is < 0 or > 1 << 20 || window % 4096 != 0)
        {
            throw new UsageException($"--read-around must be a multiple of 4 KiB from 0 to 1 MiB (was {window} bytes)");
        }

        return (int)window;
    }
}

/// <summary><c>dora umount MOUNTPOINT</c>: detaches a Dora mount, also one whose <c>dora mount</c> died (a stale mount).</summary>
internal static class UmountCommand
{
    public static Command Create() => new("umount", "detach a dora mount (also a stale one left by a crash)")
    {
        new Argument<string>("MOUNTPOINT") { Description = "where it is mounted" },
    };

    public static Task<int> RunAsync(ArgumentReader reader, CancellationToken cancellationToken)
    {
        string mountPoint = Path.GetFullPath(reader.Argument("MOUNTPOINT") ?? throw new UsageException("a mount point is required"));
        if (!FuseMounts.IsDoraMount(mountPoint))
        {
            Console.Error.WriteLine($"dora umount: nothing of Dora is mounted at {mountPoint} (/proc/self/mounts lists no fuse.dora there)");
            return Task.FromResult(1);
        }

        if (!FuseMounts.Unmount(mountPoint, out string? problem))
        {
            Console.Error.WriteLine($"dora umount: {mountPoint}: {problem}");
            return Task.FromResult(1);
        }

        Console.WriteLine($"dora umount: {mountPoint} detached");
        return Task.FromResult(0);
    }
}
