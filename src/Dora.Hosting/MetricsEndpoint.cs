using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Dora.Hosting;

/// <summary>
/// <c>/metrics</c>: the Prometheus text of one <see cref="Meter"/> instance, through OpenTelemetry's exporter, so the
/// meter is the one list of a process's metrics (OpenTelemetry users collect the same instruments). Only that instance
/// is exported: several workers in one process (<c>dora local</c>, tests) each have a meter of the same name.
/// </summary>
public static class MetricsEndpoint
{
    /// <summary>
    /// Collects <paramref name="meter"/> for the host being built, as service <paramref name="service"/> (and instance
    /// <paramref name="instance"/>, when known).
    /// </summary>
    public static IServiceCollection AddMetricsOf(this IServiceCollection services, Meter meter, string service, string? instance)
    {
        ArgumentNullException.ThrowIfNull(meter);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(service, autoGenerateServiceInstanceId: false, serviceInstanceId: instance))
            .WithMetrics(metrics => metrics
                .AddMeter(meter.Name)
                .AddView(instrument => ReferenceEquals(instrument.Meter, meter) ? null : MetricStreamConfiguration.Drop)

                // Every scrape sees the counters as they are (the exporter's default caches an answer for 300 ms).
                .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Serves the metrics collected by <see cref="AddMetricsOf"/> at <c>/metrics</c>.</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder routes) => routes.MapPrometheusScrapingEndpoint("/metrics");

    /// <summary>
    /// Histogram buckets for durations in seconds, 100 µs to 10 s: a cache hit over loopback takes tens of
    /// microseconds, an object-store miss tens of milliseconds.
    /// </summary>
    public static IReadOnlyList<double> DurationBuckets { get; } = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
