using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Dora.Core.Errors;
using Dora.Core.Protocol;
using Dora.Worker.Reading;
using Microsoft.Extensions.Logging;

namespace Dora.Worker.PageStream;

/// <summary>
/// The page stream endpoint (docs/protocol.md): accepts TCP connections and serves each in its own session.
/// </summary>
public sealed class PageStreamServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly StorageEngine _engine;
    private readonly PageStreamOptions _options;
    private readonly string _workerId;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _bufferedPages;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<PageStreamSession, Task> _sessions = new();
    private readonly Task _acceptLoop;

    private PageStreamServer(Socket listener, StorageEngine engine, PageStreamOptions options, string workerId, ILogger logger)
    {
        _listener = listener;
        _engine = engine;
        _options = options;
        _workerId = workerId;
        _logger = logger;
        _bufferedPages = new SemaphoreSlim(options.MaxBufferedPages, options.MaxBufferedPages);
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _acceptLoop = AcceptAsync(_stopping.Token);
    }

    /// <summary>The port the endpoint listens on.</summary>
    public int Port { get; }

    /// <summary>Connections being served now.</summary>
    public int Connections => _sessions.Count;

    /// <summary>Binds and starts accepting.</summary>
    /// <exception cref="PortInUseException">The address or port cannot be bound (in use, not local); the message names it.</exception>
    public static PageStreamServer Start(IPAddress address, StorageEngine engine, PageStreamOptions options, string workerId, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            listener.Bind(new IPEndPoint(address, options.Port));
            listener.Listen(512);
            return new PageStreamServer(listener, engine, options, workerId, logger);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new PortInUseException(PortInUseException.Stream, address.ToString(), options.Port, e);
        }
    }

    private async Task AcceptAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            socket.NoDelay = true;
            var session = new PageStreamSession(socket, _engine, _options, _bufferedPages, _workerId, _logger);
            if (_sessions.Count >= _options.MaxConnections)
            {
                _ = RefuseAsync(session);
                continue;
            }

            _sessions[session] = ServeAsync(session, stopping);
        }
    }

    private async Task ServeAsync(PageStreamSession session, CancellationToken stopping)
    {
        await Task.Yield();
        try
        {
            await session.RunAsync(stopping).ConfigureAwait(false);
        }
        finally
        {
            _sessions.TryRemove(session, out _);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RefuseAsync(PageStreamSession session)
    {
        await session.RefuseAsync(ErrorCode.Unavailable, $"this worker serves at most {_options.MaxConnections} page stream connections").ConfigureAwait(false);
        await session.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops accepting, closes every connection (requests in flight fail on the client, which retries elsewhere).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_sessions.Values).ConfigureAwait(false);
        _stopping.Dispose();
        _bufferedPages.Dispose();
    }
}
