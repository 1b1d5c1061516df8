using System.CommandLine;
using Dora.Core.Mounts;
using Dora.Core.UnderStorage;
using Dora.S3;

namespace Dora.Cli.CommandLine;

/// <summary>The stores a worker caches: <c>--ufs DIR</c> (a folder at <c>/</c>) and any number of <c>--mount PREFIX=URI</c>.</summary>
internal sealed record MountSettings(IReadOnlyList<MountSpec> Specs, S3Options S3)
{
    /// <summary>Adds <c>--mount</c> and the S3 credentials.</summary>
    public static void AddOptions(Command command) => CliOptions.AddTo(
        command,
        CliOptions.Repeated("--mount", "PREFIX=URI",
            "mount a store at a Dora path prefix (repeatable; the longest matching prefix wins), e.g. --mount /=file:///data or "
            + "--mount '/lake=s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1'. URI options: consistency=ttl|immutable|always "
            + "and ttl=SECONDS (per mount; default --consistency/--ttl); s3: endpoint, region, addressing=path|virtual, profile"),
        CliOptions.Value("--s3-access-key", "KEY", "S3 access key, with --s3-secret-key (default: AWS_ACCESS_KEY_ID, then the AWS credential files)"),
        CliOptions.Value("--s3-secret-key", "KEY", "S3 secret key (default: AWS_SECRET_ACCESS_KEY, then the AWS credential files)"));

    /// <summary>Reads <c>--mount</c> and the S3 credentials; <paramref name="ufs"/> (when given) is mounted at <c>/</c>.</summary>
    public static MountSettings Read(ArgumentReader reader, string? ufs, WorkerSettings settings)
    {
        var specs = new List<MountSpec>();
        if (ufs is not null)
        {
            string folder = Path.GetFullPath(ufs);
            if (!Directory.Exists(folder))
            {
                throw new UsageException($"option '--ufs': the folder '{folder}' does not exist");
            }

            specs.Add(new MountSpec(Core.Paths.DoraPath.Root, new Uri(folder), settings.Consistency, settings.Ttl));
        }

        foreach (string text in reader.Strings("--mount"))
        {
            try
            {
                MountSpec spec = MountSpec.Parse(text, settings.Consistency, settings.Ttl);
                if (specs.Any(s => s.Prefix == spec.Prefix))
                {
                    throw new UsageException($"option '--mount': the prefix {spec.Prefix} is mounted twice");
                }

                specs.Add(spec);
            }
            catch (FormatException e)
            {
                throw new UsageException($"option '--mount': {e.Message}");
            }
        }

        var s3 = new S3Options { AccessKey = reader.String("--s3-access-key"), SecretKey = reader.String("--s3-secret-key") };
        try
        {
            s3.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"options '--s3-access-key'/'--s3-secret-key': {e.Message}");
        }

        return new MountSettings(specs, s3);
    }

    public bool IsEmpty => Specs.Count == 0;

    /// <summary>
    /// The mount table the cluster's running workers advertise, for a worker started without <c>--ufs</c> or
    /// <c>--mount</c>; null when no worker advertises one.
    /// </summary>
    public static async Task<MountSettings?> AdoptAsync(Registry.IClusterRegistry registry, S3Options s3, CancellationToken cancellationToken)
    {
        Registry.Membership membership = await registry.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (membership.Workers.FirstOrDefault(w => w.Mounts is { Count: > 0 }) is not { } worker)
        {
            return null;
        }

        try
        {
            return new MountSettings([.. worker.Mounts!.Select(line => MountSpec.Parse(line, ConsistencyMode.Ttl, Mount.DefaultTtl))], s3);
        }
        catch (FormatException e)
        {
            throw new UsageException($"worker {worker.Id} advertises a mount table this worker cannot adopt ({e.Message}); give --ufs or --mount");
        }
    }

    /// <summary>Opens every store (a worker gets its own table: stores are not shared between workers).</summary>
    public MountTable Open()
    {
        var mounts = new List<Mount>();
        try
        {
            foreach (MountSpec spec in Specs)
            {
                mounts.Add(new Mount(spec.Prefix, OpenStore(spec), spec.Consistency, spec.Ttl) { Spec = spec });
            }

            return new MountTable(mounts);
        }
        catch
        {
            foreach (Mount mount in mounts)
            {
                mount.Storage.Dispose();
            }

            throw;
        }
    }

    private IUnderStorage OpenStore(MountSpec spec)
    {
        if (spec.Storage.Scheme == "s3")
        {
            try
            {
                return new S3UnderStorage(S3Location.Parse(spec.Storage), S3);
            }
            catch (FormatException e)
            {
                throw new UsageException($"option '--mount' {spec.Prefix}: {e.Message}");
            }
        }

        if (!string.IsNullOrEmpty(spec.Storage.Host))
        {
            throw new UsageException($"option '--mount' {spec.Prefix}: '{spec.Storage}' names a host; a folder is file:///absolute/path");
        }

        string folder = spec.LocalFolder;
        return Directory.Exists(folder)
            ? new LocalUnderStorage(folder)
            : throw new UsageException($"option '--mount' {spec.Prefix}: the folder '{folder}' does not exist");
    }

    /// <summary>One line per mount for banners.</summary>
    public IEnumerable<string> Describe() => Specs.Select(s => $"{s.Prefix} = {(s.Storage.Scheme == "file" ? s.LocalFolder : S3Location.Parse(s.Storage).Description)} ({s.Consistency.ToString().ToLowerInvariant()})");
}
