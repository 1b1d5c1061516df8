using Dora.Core.Protocol;

namespace Dora.Client.Internal;

/// <summary>One request that <see cref="DoraClient"/> may try on several workers in turn (a struct: no allocation).</summary>
internal interface IWorkerOperation<T>
{
    /// <summary>The normalized path whose owners are tried.</summary>
    string Path { get; }

    Task<T> RunAsync(PageStreamConnection connection, CancellationToken cancellationToken);
}

/// <summary>A positioned read into the caller's memory.</summary>
internal readonly struct ReadOperation(string path, long offset, Memory<byte> destination, string? version) : IWorkerOperation<int>
{
    public string Path => path;

    public Task<int> RunAsync(PageStreamConnection connection, CancellationToken cancellationToken) =>
        connection.ReadAsync(path, offset, destination, version, cancellationToken);
}

/// <summary>A STAT or LIST, answered with JSON.</summary>
internal readonly struct QueryOperation(FrameType type, string path, string? after, int limit) : IWorkerOperation<byte[]>
{
    public string Path => path;

    public Task<byte[]> RunAsync(PageStreamConnection connection, CancellationToken cancellationToken) =>
        connection.QueryAsync(type, path, after, limit, cancellationToken);
}
