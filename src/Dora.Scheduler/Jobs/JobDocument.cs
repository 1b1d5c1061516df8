using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dora.Scheduler.Jobs;

/// <summary>
/// A job as the REST API shows it and the job store keeps it: what was asked, its state and times, counters,
/// throughput and ETA (while running), and the failed files with their reasons.
/// </summary>
public sealed record JobDocument(
    string Id,
    string Type,
    LoadJobSpec Spec,
    JobState State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error,
    bool Planning,
    ProgressCounts Progress,
    double ElapsedSeconds,
    double ThroughputBytesPerSecond,
    double? EtaSeconds,
    IReadOnlyList<FileFailure> Failures)
{
    public static JobDocument Of(Job job, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        ProgressCounts progress = ProgressCounts.Of(job.Progress);
        DateTimeOffset end = job.FinishedAt ?? now;
        double elapsed = job.StartedAt is { } started ? Math.Max(0, (end - started).TotalSeconds) : 0;
        double runSeconds = job.State == JobState.Running ? Math.Max(0.001, (now - job.RunStartedAt).TotalSeconds) : 0;
        double throughput = job.State == JobState.Running ? (progress.BytesLoaded - progress.BytesResumed) / runSeconds : 0;
        long remaining = progress.BytesPlanned - progress.BytesLoaded - progress.BytesSkipped - progress.BytesFailed;
        double? eta = job.State == JobState.Running && throughput > 0 ? remaining / throughput : null;
        return new JobDocument(job.Id, "load", job.Spec, job.State, job.CreatedAt, job.StartedAt, job.FinishedAt, job.Error,
            job.Planning, progress, elapsed, throughput, eta, job.Failures);
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, SchedulerJson.Default.JobDocument);

    public static JobDocument? FromJson(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, SchedulerJson.Default.JobDocument);
}

/// <summary>Source-generated JSON of the scheduler's documents (camelCase, enums as lower-case names).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobDocument))]
[JsonSerializable(typeof(List<JobDocument>))]
public sealed partial class SchedulerJson : JsonSerializerContext;
