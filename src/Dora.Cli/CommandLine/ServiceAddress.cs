using System.CommandLine;
using System.Net;

namespace Dora.Cli.CommandLine;

/// <summary>Where a service (a worker, the scheduler) listens, the host it advertises, and its registry lease.</summary>
internal sealed record ServiceAddress(IPAddress Bind, string? AdvertisedHost, TimeSpan LeaseTtl)
{
    /// <summary>Adds <c>--bind</c>, <c>--host</c> and <c>--lease-ttl</c>; <paramref name="leaseMeaning"/> says what the TTL does.</summary>
    public static void AddOptions(Command command, string leaseMeaning) => CliOptions.AddTo(
        command,
        CliOptions.Value("--bind", "ADDRESS", "address to listen on (default 127.0.0.1; 0.0.0.0 for other machines)"),
        CliOptions.Value("--host", "NAME", "host name advertised to clients (default: the bind address, or this machine's name)"),
        CliOptions.Value("--lease-ttl", "SECONDS", $"etcd lease TTL: {leaseMeaning} (default 15)"));

    public static ServiceAddress Read(ArgumentReader reader)
    {
        string bindText = reader.String("--bind") ?? "127.0.0.1";
        if (!IPAddress.TryParse(bindText, out IPAddress? bind))
        {
            throw new UsageException($"option '--bind' must be an IP address such as 127.0.0.1 or 0.0.0.0 (was '{bindText}')");
        }

        return new ServiceAddress(bind, reader.String("--host"), TimeSpan.FromSeconds(reader.Int("--lease-ttl", 15, 2, 3600)));
    }
}
