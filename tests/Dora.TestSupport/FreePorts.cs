using System.Net;
using System.Net.Sockets;

namespace Dora.TestSupport;

/// <summary>Loopback ports nobody listens on right now.</summary>
public static class FreePorts
{
    /// <summary>A port the kernel just handed out for 127.0.0.1 and that was released again.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
