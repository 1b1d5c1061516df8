using System.CommandLine;
using Dora.Core.Hashing;
using Dora.Registry;
using Microsoft.Extensions.Logging;

namespace Dora.Cli.CommandLine;

/// <summary>
/// Where the cluster's membership lives: <c>--registry</c>, else the <c>DORA_REGISTRY</c> environment variable, else
/// the <c>.dora/cluster.json</c> that <c>dora local</c> writes (in this directory or a parent);
/// <c>--cluster</c> names the cluster inside it.
/// </summary>
internal sealed record RegistrySettings(string Address, string Cluster, Registry.Etcd.EtcdCredentials Etcd)
{
    /// <summary>Adds <c>--registry</c>, <c>--cluster</c> and the etcd credential options.</summary>
    public static void AddOptions(Command command, bool clusterFile = true)
    {
        CliOptions.AddTo(
            command,
            CliOptions.Value("--registry", "ADDRESS", clusterFile
                ? "etcd://host:port[,host:port...] or static:FILE (default: $DORA_REGISTRY, else the .dora/cluster.json of a running dora local)"
                : "etcd://host:port[,host:port...] or static:FILE (default: $DORA_REGISTRY)"),
            CliOptions.Value("--cluster", "NAME", "cluster name inside the registry (default 'default')"));
        EtcdOptions.AddTo(command);
    }

    /// <summary>Adds <c>--hash-policy</c> and <c>--weighted</c>.</summary>
    public static void AddPolicyOptions(Command command) => CliOptions.AddTo(
        command,
        CliOptions.Value("--hash-policy", "NAME", "placement policy, the same on every process (default rendezvous; see docs/hashing.md)"),
        CliOptions.Flag("--weighted", "weight workers by their advertised cache capacity"));

    /// <summary>The cluster file <c>dora local</c> writes, relative to the directory it runs in.</summary>
    public static readonly string ClusterFile = Path.Combine(".dora", "cluster.json");

    public static RegistrySettings Read(ArgumentReader reader, bool allowClusterFile = true)
    {
        string? address = reader.String("--registry") ?? Environment.GetEnvironmentVariable("DORA_REGISTRY");
        if (string.IsNullOrWhiteSpace(address) && allowClusterFile && FindClusterFile() is { } file)
        {
            EnsureServed(file);
            address = "static:" + file;
        }

        if (string.IsNullOrWhiteSpace(address))
        {
            throw new UsageException(allowClusterFile
                ? "no cluster found: pass --registry (e.g. etcd://127.0.0.1:2379), set DORA_REGISTRY, or start ./dora local in this directory"
                : "option '--registry' is required (or set DORA_REGISTRY), e.g. --registry etcd://127.0.0.1:2379");
        }

        string cluster = reader.String("--cluster") ?? ClusterNames.Default;
        if (!ClusterNames.IsValid(cluster))
        {
            throw new UsageException($"option '--cluster' must be 1 to 64 letters, digits, '.', '_' or '-' (was '{cluster}')");
        }

        return new RegistrySettings(address, cluster, EtcdOptions.Read(reader));
    }

    /// <summary>
    /// Refuses a cluster file whose <c>dora local</c> is gone (killed, or the machine restarted): its ports are served by
    /// nobody, and every command would fail with a connection error instead of saying why.
    /// </summary>
    private static void EnsureServed(string file)
    {
        int? pid = null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(file));
            if (json.RootElement.TryGetProperty("pid", out var value) && value.TryGetInt32(out int number))
            {
                pid = number;
            }
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            throw new UsageException($"the cluster file '{file}' cannot be read ({e.Message}); start ./dora local again, or pass --registry");
        }

        if (pid is { } owner && !IsRunningSince(owner, File.GetLastWriteTimeUtc(file)))
        {
            throw new UsageException($"the cluster file '{file}' is stale: the dora local that wrote it (process {owner}) is not running; start ./dora local again (it rewrites the file), or pass --registry");
        }
    }

    private static bool IsRunningSince(int pid, DateTime writtenUtc)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);

            // A process started after the file was written is another program that got the same id.
            return !process.HasExited && process.StartTime.ToUniversalTime() <= writtenUtc;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>The nearest <c>.dora/cluster.json</c> in the current directory or its parents.</summary>
    private static string? FindClusterFile()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, ClusterFile);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Reads <c>--hash-policy</c> and <c>--weighted</c>.</summary>
    public static ClusterViewOptions ReadViewOptions(ArgumentReader reader)
    {
        string policy = reader.String("--hash-policy") ?? PlacementPolicies.DefaultName;
        try
        {
            return new ClusterViewOptions { Policy = PlacementPolicies.Create(policy), CapacityWeights = reader.Flag("--weighted") };
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"option '--hash-policy': {e.Message}");
        }
    }

    /// <summary>Opens the registry; a malformed address is a usage error naming the option.</summary>
    public IClusterRegistry Open(TimeSpan? leaseTtl, ILogger logger)
    {
        try
        {
            return RegistryAddress.Open(Address, Cluster, leaseTtl, logger, Etcd);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"option '--registry': {e.Message}");
        }
    }
}
