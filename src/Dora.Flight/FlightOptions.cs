namespace Dora.Flight;

/// <summary>Settings of a worker's Arrow Flight endpoint. Every default is stated where it is declared.</summary>
public sealed record FlightOptions
{
    /// <summary>
    /// Largest gRPC message sent or accepted: 4 MiB, gRPC's default receive limit, so any Flight client works
    /// without raising its limits.
    /// </summary>
    public int MaxMessageBytes { get; init; } = 4 << 20;

    /// <summary>Largest range one FlightInfo endpoint covers: 64 MiB, so big reads spread over several DoGet calls.</summary>
    public long MaxEndpointBytes { get; init; } = 64L << 20;

    /// <summary>
    /// A bearer token every call must present (<c>authorization: Bearer &lt;token&gt;</c>); null (the default) serves
    /// anyone who can reach the port.
    /// </summary>
    public string? AuthToken { get; init; }

    public void Validate()
    {
        if (AuthToken is { Length: 0 or > 1024 })
        {
            throw new ArgumentException("FlightOptions.AuthToken must be 1 to 1024 characters, or null for none.");
        }

        if (MaxMessageBytes < 64 << 10 || MaxEndpointBytes < 1 << 20)
        {
            throw new ArgumentException("FlightOptions.MaxMessageBytes must be at least 64 KiB and MaxEndpointBytes at least 1 MiB.");
        }
    }
}
