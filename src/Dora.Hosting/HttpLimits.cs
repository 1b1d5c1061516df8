using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dora.Hosting;

/// <summary>
/// The limits every Dora HTTP face keeps (the worker's HTTP API, the scheduler's REST API), each with its default here
/// and in docs/limits.md. Dora's requests are small (a path, a range, a job of at most 1 MiB); the limits keep a peer
/// from holding a server with slow, huge or endless requests.
/// </summary>
public static class HttpLimits
{
    /// <summary>Connections served at once: 1,024; more wait in the listen backlog.</summary>
    public const int MaxConnections = 1024;

    /// <summary>All request headers together: 32 KiB (431 beyond).</summary>
    public const int MaxHeaderBytes = 32 << 10;

    /// <summary>Request headers: 100 (431 beyond).</summary>
    public const int MaxHeaderCount = 100;

    /// <summary>A request body: 1 MiB (413 beyond); the largest Dora takes is a job.</summary>
    public const long MaxBodyBytes = 1 << 20;

    /// <summary>Time for a request's headers to arrive: 10 s, then the connection is closed (a slowloris holds nothing longer).</summary>
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Requests one client address may make per second, sustained: 20,000, with bursts of 40,000 (429 beyond); high
    /// enough for a reader doing small random range reads, low enough that one peer cannot keep a server busy alone.
    /// </summary>
    public const int RequestsPerSecondPerAddress = 20_000;

    /// <summary>
    /// Kestrel's limits, and a client that takes a response slower than 64 KiB/s (after 5 s) is dropped, as the page
    /// stream drops one.
    /// </summary>
    public static void Apply(KestrelServerOptions kestrel)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        kestrel.AddServerHeader = false;
        kestrel.Limits.MinResponseDataRate = new MinDataRate(64 << 10, TimeSpan.FromSeconds(5));
        kestrel.Limits.MaxConcurrentConnections = MaxConnections;
        kestrel.Limits.MaxRequestHeadersTotalSize = MaxHeaderBytes;
        kestrel.Limits.MaxRequestHeaderCount = MaxHeaderCount;
        kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
        kestrel.Limits.RequestHeadersTimeout = HeadersTimeout;
    }

    /// <summary>
    /// Caps the request rate of each client address (a token bucket per address; 429 with <c>Retry-After</c> when it
    /// is empty), so one peer cannot keep a server busy for everyone; <c>/healthz</c> is never limited.
    /// </summary>
    public static IApplicationBuilder UseRequestRateLimit(this IApplicationBuilder app, int perSecond = RequestsPerSecondPerAddress)
    {
        ArgumentNullException.ThrowIfNull(app);
        var limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = 2 * perSecond,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
        return app.Use(async (context, next) =>
        {
            if (context.Request.Path.Equals("/healthz", StringComparison.Ordinal))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            using RateLimitLease lease = limiter.AttemptAcquire(context.Connection.RemoteIpAddress ?? IPAddress.None);
            if (!lease.IsAcquired)
            {
                context.Response.Headers.RetryAfter = "1";
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: $"this address made more than {perSecond} requests per second; slow down").ExecuteAsync(context).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
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
