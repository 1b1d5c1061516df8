namespace Dora.Scheduler.Jobs;

/// <summary>Where a job is in its life: queued until a slot frees up, running, then one of the three ends.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<JobState>))]
public enum JobState
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("queued")]
    Queued,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("running")]
    Running,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("succeeded")]
    Succeeded,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("failed")]
    Failed,

    [System.Text.Json.Serialization.JsonStringEnumMemberName("cancelled")]
    Cancelled,
}

public static class JobStates
{
    public static bool IsFinished(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    public static string Name(this JobState state) => state.ToString().ToLowerInvariant();
}
