using System.Diagnostics.Metrics;
using Dora.Scheduler.Jobs;
using Dora.Scheduler.Running;

namespace Dora.Scheduler;

/// <summary>
/// The scheduler's metrics: instruments of one <see cref="System.Diagnostics.Metrics.Meter"/> named
/// <c>Dora.Scheduler</c>, exported at <c>/metrics</c> (docs/scheduler.md lists them).
/// </summary>
internal sealed class SchedulerMetrics : IDisposable
{
    public SchedulerMetrics(JobScheduler jobs)
    {
        Meter.CreateObservableGauge("dora.scheduler.jobs", () => jobs.CountByState().Select(
            pair => new Measurement<int>(pair.Value, new KeyValuePair<string, object?>("state", pair.Key.Name()))), description: "Jobs held by the scheduler, by state.");
        Meter.CreateObservableGauge("dora.scheduler.loaded", () => jobs.List().Sum(j => j.Progress.BytesLoaded), "By", "Bytes loaded by the jobs held.");
        Meter.CreateObservableGauge("dora.scheduler.files_failed", () => jobs.List().Sum(j => j.Progress.FilesFailed), description: "Files failed in the jobs held.");
        Meter.CreateObservableGauge("dora.scheduler.tasks_done", () => jobs.List().Sum(j => j.Progress.TasksDone), description: "Load tasks finished in the jobs held.");
    }

    public Meter Meter { get; } = new("Dora.Scheduler");

    public void Dispose() => Meter.Dispose();
}
