namespace Dora.Core.Errors;

/// <summary>A server could not listen on its port: another process holds it (or the address is not local).</summary>
public sealed class PortInUseException(string face, string address, int port, Exception inner)
    : IOException($"cannot listen for the {face} on {address}:{port}: {inner.Message}", inner)
{
    /// <summary>The worker's HTTP API.</summary>
    public const string Http = "HTTP API";

    /// <summary>The page stream.</summary>
    public const string Stream = "page stream";

    /// <summary>Arrow Flight.</summary>
    public const string Flight = "Arrow Flight endpoint";

    /// <summary>The scheduler's REST API.</summary>
    public const string Scheduler = "scheduler API";

    /// <summary>The face name of a worker's S3 gateway.</summary>
    public const string S3 = "S3 gateway";

    /// <summary>Which server it was: <see cref="Http"/>, <see cref="Stream"/>, <see cref="Flight"/> or <see cref="Scheduler"/>.</summary>
    public string Face { get; } = face;

    public int Port { get; } = port;
}
