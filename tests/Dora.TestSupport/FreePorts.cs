using System.Net;
using System.Net.Sockets;

namespace Dora.TestSupport;

/// <summary>Loopback ports nobody listens on right now, each handed out once per test process.</summary>
public static class FreePorts
{
    private static readonly HashSet<int> s_given = [];

    /// <summary>
    /// A port the kernel just handed out for 127.0.0.1 and that was released again. The same port is never handed out
    /// twice in this process: two fixtures (or the client and peer ports of one etcd) cannot be given the same one.
    /// </summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (s_given)
            {
                if (s_given.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
