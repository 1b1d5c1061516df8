namespace Dora.Scheduler.Jobs;

/// <summary>A job request is not valid; <see cref="Field"/> names the offending field of the request body.</summary>
public sealed class JobSpecException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
