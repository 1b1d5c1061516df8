using Dora.Core.Resources;
using Dora.Registry;
using Dora.Worker.Hosting;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>What the Flight service needs from its worker: the engine, and who owns what (for endpoint locations).</summary>
public sealed class FlightContext(WorkerEndpointContext worker, FlightOptions options)
{
    public StorageEngine Engine => worker.Engine;

    public FlightOptions Options => options;

    public string WorkerId => worker.WorkerId;

    public Microsoft.Extensions.Logging.ILogger Logger => worker.Logger;

    /// <summary>The audit lines of refused Flight authentication (rate-limited).</summary>
    public Dora.Hosting.RefusalAudit Audit { get; } = new(worker.Logger, "Flight");

    /// <summary>Memory for decoding, shared by every call of this worker (<see cref="FlightOptions.DecodeMemoryBytes"/>).</summary>
    public ByteBudget DecodeBudget { get; } = CreateBudget(worker, options);

    /// <summary>Parquet decodes that may run at once, worker-wide (<see cref="FlightOptions.MaxConcurrentDecodes"/>).</summary>
    public SemaphoreSlim DecodeSlots { get; } = new(options.MaxConcurrentDecodes, options.MaxConcurrentDecodes);

    private static ByteBudget CreateBudget(WorkerEndpointContext worker, FlightOptions options)
    {
        var budget = new ByteBudget(options.DecodeMemoryBytes, "Flight decoding memory", "--flight-decode-memory");
        var meter = worker.Engine.Metrics.Meter;
        meter.CreateObservableGauge("dora.flight.decode_memory.used", () => budget.InUse, "By", "Decoding memory held by Flight calls now.");
        meter.CreateObservableGauge("dora.flight.decode_memory.waiting", () => budget.Waiting, description: "Flight calls waiting for decoding memory.");
        return budget;
    }

    /// <summary>This worker's own Flight URI, set once the endpoint listens.</summary>
    public string SelfUri { get; internal set; } = string.Empty;

    /// <summary>
    /// The Flight URI of the owner of <paramref name="path"/>, <c>grpc+tcp://host:port</c> or <c>grpc+tls://</c> as the owner advertises it: from the ring when the worker
    /// is registered, else this worker's own.
    /// </summary>
    public string OwnerUri(string path)
    {
        ClusterView? cluster = worker.Cluster();
        if (cluster is null || cluster.Ring.IsEmpty)
        {
            return SelfUri;
        }

        WorkerRecord owner = cluster.OwnerOf(path);
        return owner.FlightUri ?? SelfUri;
    }
}
