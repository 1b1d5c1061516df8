using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Dora.TestSupport;

/// <summary>
/// A loopback TCP proxy that a test can cut and restore, to take one client's network away while the server stays up
/// for everyone else.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private readonly Task _acceptLoop;
    private volatile bool _cut;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptAsync(_stop.Token);
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Resets every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        _cut = true;
        foreach (TcpClient connection in _connections.Keys)
        {
            Reset(connection);
        }
    }

    /// <summary>Lets connections through again.</summary>
    public void Restore() => _cut = false;

    private async Task AcceptAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(stop).ConfigureAwait(false);
                if (_cut)
                {
                    Reset(client);
                    continue;
                }

                _ = PipeAsync(client, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    /// <summary>Closes with an RST, as a broken network path looks to the peer.</summary>
    private static void Reset(TcpClient connection)
    {
        try
        {
            connection.Client?.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Already closed.
        }

        connection.Dispose();
    }

    private async Task PipeAsync(TcpClient client, CancellationToken stop)
    {
        var server = new TcpClient();
        _connections[client] = 0;
        _connections[server] = 0;
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, stop).ConfigureAwait(false);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stop);
            Task up = client.GetStream().CopyToAsync(server.GetStream(), either.Token);
            Task down = server.GetStream().CopyToAsync(client.GetStream(), either.Token);
            await Task.WhenAny(up, down).ConfigureAwait(false);
            await either.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // One side went away; close both.
        }
        finally
        {
            _connections.TryRemove(client, out _);
            _connections.TryRemove(server, out _);
            client.Dispose();
            server.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        Cut();
        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
