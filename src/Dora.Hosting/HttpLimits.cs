using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Hosting;

/// <summary>The limits every Dora HTTP face keeps (the worker's HTTP API, the scheduler's REST API).</summary>
public static class HttpLimits
{
    /// <summary>A client that takes a response slower than 64 KiB/s (after 5 s) is dropped, as the page stream drops one.</summary>
    public static void Apply(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.AddServerHeader = false;
        kestrel.Limits.MinResponseDataRate = new MinDataRate(64 << 10, TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Stopping waits at most 5 s for requests in flight (slow clients included), not the host's default 30 s; and a
    /// host that cannot start (its port is taken) is not logged with a stack trace: the caller reports it, naming the
    /// port and what to change.
    /// </summary>
    public static IServiceCollection AddPromptShutdown(this IServiceCollection services)
    {
        services.AddLogging(logging => logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical));
        return services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
    }
}
