namespace Dora.Flight;

/// <summary>Settings of a worker's Arrow Flight endpoint. Every default is stated where it is declared.</summary>
public sealed record FlightOptions
{
    /// <summary>
    /// Largest gRPC message sent or accepted: 4 MiB, gRPC's default receive limit, so any Flight client works
    /// without raising its limits.
    /// </summary>
    public int MaxMessageBytes { get; init; } = 4 << 20;

    /// <summary>Most bytes of an IPC message (header and body) Dora sends: the limit less room for the protobuf framing.</summary>
    internal int MaxIpcMessageBytes => MaxMessageBytes - (1 << 10);

    /// <summary>Data bytes per range batch and decoded bytes per record batch: room is left for offsets and headers.</summary>
    internal int BatchDataBytes => MaxMessageBytes - Math.Min(256 << 10, MaxMessageBytes / 4);

    /// <summary>
    /// Most rows in one decoded Parquet batch: 65,536. Narrower rows fill a batch up to this count; wider ones get
    /// fewer rows, so a batch holds about one message of data (<see cref="BatchDataBytes"/>).
    /// </summary>
    public int MaxBatchRows { get; init; } = 64 << 10;

    /// <summary>Largest range one FlightInfo endpoint covers: 64 MiB, so big reads spread over several DoGet calls.</summary>
    public long MaxEndpointBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Memory all <c>batches</c> DoGets of the worker may use at once to decode (Parquet row groups, oversized Arrow
    /// batches): by default <see cref="DefaultDecodeMemoryBytes"/>. A call takes its row group's estimated share before
    /// decoding it, waits (at most <see cref="DecodeWait"/>) while others hold the budget, and gives it back as soon as
    /// the row group is sent or the call ends, cancelled or not. A row group estimated above the whole budget is refused
    /// with RESOURCE_EXHAUSTED.
    /// </summary>
    public long DecodeMemoryBytes { get; init; } = DefaultDecodeMemoryBytes;

    /// <summary>Smallest decoding budget accepted: 16 MiB.</summary>
    public const long MinDecodeMemoryBytes = 16L << 20;

    /// <summary>The default budget is never below 512 MiB, whatever the memory.</summary>
    public const long MinDefaultDecodeMemoryBytes = 512L << 20;

    /// <summary>
    /// A quarter of the memory this process may use (the machine's, or its container's limit, as the GC sees it), and
    /// at least <see cref="MinDefaultDecodeMemoryBytes"/>: 6 GiB on a 24 GiB machine, enough to decode a few row groups
    /// of Spark's 128 MiB default at once while the page cache and the rest of the worker keep the other three quarters.
    /// </summary>
    public static long DefaultDecodeMemoryBytes { get; } = Math.Max(MinDefaultDecodeMemoryBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);

    /// <summary>
    /// Parquet decodes running at once, worker-wide: twice the processors, at least 4. Arrow's reader reads the file
    /// synchronously, holding a thread while a page comes from the source; the cap keeps those threads few enough
    /// that the rest of the worker always has the thread pool. Further calls wait (at most <see cref="DecodeWait"/>).
    /// </summary>
    public int MaxConcurrentDecodes { get; init; } = Math.Max(4, 2 * Environment.ProcessorCount);

    /// <summary>How long a DoGet waits for decoding memory before it fails with RESOURCE_EXHAUSTED (try again): 30 s.</summary>
    public TimeSpan DecodeWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The bearer tokens a call may present (<c>authorization: Bearer &lt;token&gt;</c>, any one of them); null (the
    /// default) serves anyone who can reach the port.
    /// </summary>
    public Dora.Core.Security.TokenSet? Tokens { get; init; }

    public void Validate()
    {
        if (DecodeMemoryBytes < MinDecodeMemoryBytes || DecodeWait < TimeSpan.Zero)
        {
            throw new ArgumentException($"FlightOptions.DecodeMemoryBytes must be at least 16 MiB (was {DecodeMemoryBytes}) and DecodeWait not negative.");
        }

        if (MaxConcurrentDecodes < 1)
        {
            throw new ArgumentException($"FlightOptions.MaxConcurrentDecodes must be at least 1 (was {MaxConcurrentDecodes}).");
        }

        if (MaxBatchRows < 1)
        {
            throw new ArgumentException($"FlightOptions.MaxBatchRows must be at least 1 (was {MaxBatchRows}).");
        }

        if (MaxMessageBytes < 64 << 10 || MaxEndpointBytes < 1 << 20)
        {
            throw new ArgumentException("FlightOptions.MaxMessageBytes must be at least 64 KiB and MaxEndpointBytes at least 1 MiB.");
        }
    }
}
