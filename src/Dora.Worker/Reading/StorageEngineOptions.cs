namespace Dora.Worker.Reading;

/// <summary>Settings of the read path. Every default is stated here.</summary>
public sealed record StorageEngineOptions
{
    /// <summary>
    /// Pages fetched ahead of a sequential reader. Default 4 (4 MiB at the default page size): enough to keep one
    /// under-storage read in flight while the reader consumes the previous pages. 0 turns read-ahead off.
    /// </summary>
    public int ReadAheadPages { get; init; } = 4;

    /// <summary>Most page loads in flight before read-ahead stops adding more. Default 64.</summary>
    public int MaxConcurrentLoadsForReadAhead { get; init; } = 64;

    /// <summary>Files whose access pattern is tracked for read-ahead. Default 4096; the table is cleared when full.</summary>
    public int ReadAheadTrackedFiles { get; init; } = 4096;

    public void Validate()
    {
        if (ReadAheadPages is < 0 or > 1024)
        {
            throw new ArgumentException($"StorageEngineOptions.ReadAheadPages must be between 0 and 1024 (was {ReadAheadPages}).");
        }

        if (MaxConcurrentLoadsForReadAhead < 1 || ReadAheadTrackedFiles < 1)
        {
            throw new ArgumentException("StorageEngineOptions.MaxConcurrentLoadsForReadAhead and ReadAheadTrackedFiles must be positive.");
        }
    }
}
