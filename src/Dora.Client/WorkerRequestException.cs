using Dora.Core.Errors;
using Dora.Core.Protocol;

namespace Dora.Client;

/// <summary>A worker answered a request with an error frame, or the exchange with it failed.</summary>
public sealed class WorkerRequestException : DoraException
{
    public WorkerRequestException(string workerId, ErrorCode? code, string message, bool isTransient, Exception? inner = null)
        : base($"Worker {workerId}: {message}", isTransient, inner)
    {
        WorkerId = workerId;
        Code = code;
        Reason = message;
    }

    /// <summary>What went wrong, without the worker prefix of <see cref="Exception.Message"/>.</summary>
    public string Reason { get; }

    /// <summary>The worker that failed.</summary>
    public string WorkerId { get; }

    /// <summary>The protocol error code, or null when the connection itself failed.</summary>
    public ErrorCode? Code { get; }
}
