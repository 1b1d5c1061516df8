using System.CommandLine;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.Protocol;
using Dora.Core.UnderStorage;
using Dora.Core.Units;
using Dora.Flight;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.PageStream;
using Dora.Worker.Pages;
using Dora.Worker.Pages.Eviction;

namespace Dora.Cli.CommandLine;

/// <summary>The cache, consistency and port options every worker-running command takes.</summary>
internal sealed record WorkerSettings(
    string CacheDirectory, long CacheSize, long PageSize, EvictionPolicyKind Eviction, ConsistencyMode Consistency, TimeSpan Ttl, int HttpPort, int StreamPort, int FlightPort, Dora.Core.Security.TokenSet? Tokens, TlsOptions Tls, long FlightDecodeMemory, bool OpenMetrics, S3GatewaySettings S3)
{
    /// <summary>Adds the cache, consistency and port options (<paramref name="firstWorker"/>: the ports are the first worker's).</summary>
    public static void AddOptions(Command command, bool firstWorker = false)
    {
        string ports = firstWorker ? "; the other workers take the next free ones" : string.Empty;
        CliOptions.AddTo(
            command,
            CliOptions.Value("--cache-dir", "DIR", "where pages, metadata and the worker id are kept (default .dora/cache)"),
            CliOptions.Value("--cache-size", "SIZE", "page cache quota, e.g. 512MiB, 10GiB (default 4GiB; at least 4 pages)"),
            CliOptions.Value("--page-size", "SIZE", "page size, 4KiB to 64MiB (default 1MiB)"),
            CliOptions.Value("--eviction", "POLICY", "lru, fifo, lfu or s3fifo (default lru)"),
            CliOptions.Value("--consistency", "MODE", "ttl, immutable or always (default ttl)"),
            CliOptions.Value("--ttl", "SECONDS", "revalidation interval of the ttl mode (default 60)"),
            CliOptions.Value("--http-port", "PORT", $"worker HTTP port (default 8817; 0 picks a free one{ports})"),
            CliOptions.Value("--stream-port", "PORT", $"page stream port (default 8816; 0 picks a free one{ports})"),
            CliOptions.Value("--flight-port", "PORT", $"Arrow Flight port (default 8815; 0 picks a free one{ports})"),
            CliOptions.Value("--flight-decode-memory", "SIZE", $"memory all Flight calls may use at once to decode Parquet row groups (default a quarter of the memory this process may use, at least {ByteSize.Format(FlightOptions.MinDefaultDecodeMemoryBytes)})"));
        TokenOption.AddTo(command, "require one of these tokens from page stream, Flight and HTTP clients (default: none)");
        TlsOptions.AddServerOptions(command);
        S3GatewaySettings.AddOptions(command, firstWorker ? "; the other workers take free ones" : string.Empty);
        CliOptions.AddTo(command, CliOptions.Flag(OpenMetricsOption, "serve /metrics without a token even when tokens are required"));
    }

    /// <summary>The flag that leaves <c>/metrics</c> open when tokens are required elsewhere (Prometheus without credentials).</summary>
    public const string OpenMetricsOption = "--open-metrics";

    /// <summary>The smallest cache, in pages: a cache that cannot hold a few pages serves everything from the source.</summary>
    private const int MinCachePages = 4;

    public static WorkerSettings Read(ArgumentReader reader)
    {
        Dora.Core.Security.TokenSet? tokens = TokenOption.Read(reader);
        var settings = new WorkerSettings(
            Path.GetFullPath(reader.String("--cache-dir") ?? Path.Combine(".dora", "cache")),
            reader.Bytes("--cache-size", 4L << 30),
            reader.Bytes("--page-size", PageStoreOptions.DefaultPageSize),
            ParseEnum<EvictionPolicyKind>(reader.String("--eviction") ?? "lru", "--eviction"),
            ParseEnum<ConsistencyMode>(reader.String("--consistency") ?? "ttl", "--consistency"),
            TimeSpan.FromSeconds(reader.Int("--ttl", 60, 0, 86_400 * 365)),
            reader.Int("--http-port", WorkerOptions.DefaultHttpPort, 0, 65535),
            reader.Int("--stream-port", ProtocolConstants.DefaultPort, 0, 65535),
            reader.Int("--flight-port", WorkerOptions.DefaultFlightPort, 0, 65535),
            tokens,
            TlsOptions.Read(reader, server: true),
            reader.Bytes("--flight-decode-memory", FlightOptions.DefaultDecodeMemoryBytes),
            reader.Flag(OpenMetricsOption),
            S3GatewaySettings.Read(reader, hasTokens: tokens is not null));
        if (settings.PageSize is < PageStoreOptions.MinPageSize or > PageStoreOptions.MaxPageSize)
        {
            throw new UsageException($"option '--page-size' must be between {ByteSize.Format(PageStoreOptions.MinPageSize)} and {ByteSize.Format(PageStoreOptions.MaxPageSize)} (was {ByteSize.Format(settings.PageSize)})");
        }

        if (settings.FlightDecodeMemory < FlightOptions.MinDecodeMemoryBytes)
        {
            throw new UsageException($"option '--flight-decode-memory' must be at least {ByteSize.Format(FlightOptions.MinDecodeMemoryBytes)} (was {ByteSize.Format(settings.FlightDecodeMemory)})");
        }

        if (settings.CacheSize < MinCachePages * settings.PageSize)
        {
            throw new UsageException($"option '--cache-size' ({ByteSize.Format(settings.CacheSize)}) must hold at least {MinCachePages} pages of {ByteSize.Format(settings.PageSize)} (--page-size): at least {ByteSize.Format(MinCachePages * settings.PageSize)}");
        }

        return settings;
    }

    /// <summary>A worker over <paramref name="mounts"/>; its S3 gateway, if any, on <paramref name="s3Port"/> (default: --s3-port).</summary>
    public WorkerOptions ToWorkerOptions(MountTable mounts, int? s3Port = null) => new()
    {
        Mounts = mounts,
        Pages = new PageStoreOptions
        {
            Directories = [new CacheDirectoryOptions(Path.Combine(CacheDirectory, "pages"), CacheSize)],
            PageSize = (int)PageSize,
            Eviction = Eviction,
        },
        Metadata = new MetadataOptions { DatabaseDirectory = Path.Combine(CacheDirectory, "metadata") },
        HttpPort = HttpPort,
        HttpTokens = Tokens,
        Tls = Tls.Server,
        OpenMetrics = OpenMetrics,
        Stream = new PageStreamOptions { Port = StreamPort, Tokens = Tokens },
        FlightPort = FlightPort,
        ExtraEndpoints = S3.Enabled
            ? [FlightServer, Dora.S3Gateway.S3GatewayServer.Factory(S3.ToOptions(s3Port ?? S3.Port) with { StagingDirectory = Path.Combine(CacheDirectory, "s3-uploads") }, new Dora.Client.DoraClientOptions { AuthToken = Tokens?.Current, Tls = Tls.Client })]
            : [FlightServer],
    };

    private WorkerEndpointFactory FlightServer => Dora.Flight.FlightServer.Factory(new FlightOptions { Tokens = Tokens, DecodeMemoryBytes = FlightDecodeMemory });

    /// <summary>One line describing the cache, for start-up banners.</summary>
    public string Describe() =>
        $"{CacheDirectory} (quota {ByteSize.Format(CacheSize)}, {ByteSize.Format(PageSize)} pages, {Eviction.ToString().ToLowerInvariant()} eviction)";

    public static T ParseEnum<T>(string text, string option)
        where T : struct, Enum
    {
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _))
        {
            return value;
        }

        var names = string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()));
        throw new UsageException($"option '{option}' must be one of {names} (was '{text}')");
    }
}
