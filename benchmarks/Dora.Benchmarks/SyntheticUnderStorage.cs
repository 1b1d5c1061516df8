using Dora.Core.Errors;
using Dora.Core.UnderStorage;

namespace Dora.Benchmarks;

/// <summary>
/// An under storage whose files exist only as generated statuses (<c>f/NNNNNNN</c>), for measuring the metadata store
/// at millions of entries without creating millions of files. It counts the stats that reach it.
/// </summary>
internal sealed class SyntheticUnderStorage(int fileCount) : IUnderStorage
{
    private static readonly DateTimeOffset Modified = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _stats;

    public long Stats => Interlocked.Read(ref _stats);

    public string Description => "synthetic://";

    public ValueTask<UfsFileStatus> StatAsync(string relativePath, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stats);
        if (!relativePath.StartsWith("f/", StringComparison.Ordinal) || !int.TryParse(relativePath.AsSpan(2), out var n) || n >= fileCount)
        {
            throw new DoraFileNotFoundException("/" + relativePath);
        }

        return ValueTask.FromResult(new UfsFileStatus(relativePath[2..], false, 1000 + n, Modified, "\"etag-" + n + "\""));
    }

    public ValueTask<int> ReadAsync(string relativePath, Fingerprint expected, long offset, Memory<byte> buffer, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The synthetic under storage has statuses only.");

    public ValueTask<UfsListingPage> ListAsync(string relativePath, string? after, int limit, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The synthetic under storage has statuses only.");

    public void Dispose()
    {
    }
}
