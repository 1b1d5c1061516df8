using Dora.Formats;
using Dora.Worker.Reading;

namespace Dora.Flight;

/// <summary>An opened file as the positioned reader that the layout readers of Dora.Formats take, read through the cache.</summary>
internal static class EngineReads
{
    public static ReadAt ReaderOf(StorageEngine engine, OpenedFile file) =>
        (offset, destination, cancellationToken) => engine.ReadExactlyAsync(file, offset, destination, cancellationToken);
}
