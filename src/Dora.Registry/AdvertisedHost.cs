using System.Net;

namespace Dora.Registry;

/// <summary>The host a service advertises in the registry: the one given, else its bind address, else (bound to every address) the machine's name.</summary>
public static class AdvertisedHost
{
    public static string For(IPAddress bind, string? advertised)
    {
        ArgumentNullException.ThrowIfNull(bind);
        return advertised ?? (bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any) ? Dns.GetHostName() : bind.ToString());
    }
}
