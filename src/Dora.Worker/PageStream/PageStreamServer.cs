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
    private readonly Dora.Hosting.RefusalAudit _audit;
    private readonly SemaphoreSlim _bufferedPages;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<PageStreamSession, Task> _sessions = new();
    private readonly ConcurrentDictionary<System.Net.IPAddress, int> _pendingByAddress = new();
    private readonly Lock _pendingLock = new();
    private readonly LinkedList<PageStreamSession> _pending = new();
    private int _admitted;
    private readonly Task _acceptLoop;

    private PageStreamServer(Socket listener, StorageEngine engine, PageStreamOptions options, string workerId, ILogger logger)
    {
        _audit = new Dora.Hosting.RefusalAudit(logger, "page stream", options.Time);
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
            var session = new PageStreamSession(socket, _engine, _options, _bufferedPages, _workerId, _logger, _audit);
            System.Net.IPAddress address = (socket.RemoteEndPoint as System.Net.IPEndPoint)?.Address ?? System.Net.IPAddress.None;
            LinkedListNode<PageStreamSession>? slot = ReservePending(session, address);
            if (slot is null)
            {
                _ = RefuseAsync(session, $"{_options.MaxPendingPerAddress} connections from this address are still to say HELLO");
                continue;
            }

            _sessions[session] = ServeAsync(session, slot, address, stopping);
        }
    }

    /// <summary>
    /// Takes a slot for a connection still to say HELLO; null when its address already holds its share. Peers that
    /// never authenticate only ever hold these slots, apart from the served ones. When all are taken, the oldest
    /// pending connection is given up for the new one: an honest client says HELLO within a round trip, so it is
    /// never the oldest for long, while a flood keeps replacing its own connections.
    /// </summary>
    private LinkedListNode<PageStreamSession>? ReservePending(PageStreamSession session, System.Net.IPAddress address)
    {
        if (_pendingByAddress.AddOrUpdate(address, 1, (_, count) => count + 1) > _options.MaxPendingPerAddress)
        {
            ReleaseAddress(address);
            return null;
        }

        PageStreamSession? oldest = null;
        LinkedListNode<PageStreamSession> slot;
        lock (_pendingLock)
        {
            slot = _pending.AddLast(session);
            if (_pending.Count > _options.MaxPendingConnections)
            {
                oldest = _pending.First!.Value;
                _pending.RemoveFirst();
            }
        }

        oldest?.AbandonHandshake();
        return slot;
    }

    private void ReleasePending(LinkedListNode<PageStreamSession> slot, System.Net.IPAddress address)
    {
        lock (_pendingLock)
        {
            if (slot.List is not null)
            {
                _pending.Remove(slot);
            }
        }

        ReleaseAddress(address);
    }

    private void ReleaseAddress(System.Net.IPAddress address)
    {
        if (_pendingByAddress.AddOrUpdate(address, 0, (_, count) => count - 1) <= 0)
        {
            _pendingByAddress.TryRemove(new KeyValuePair<System.Net.IPAddress, int>(address, 0));
        }
    }

    private async Task ServeAsync(PageStreamSession session, LinkedListNode<PageStreamSession> slot, System.Net.IPAddress address, CancellationToken stopping)
    {
        await Task.Yield();
        bool pending = true;
        bool admitted = false;
        try
        {
            await session.RunAsync(Admit, stopping).ConfigureAwait(false);
        }
        finally
        {
            if (pending)
            {
                ReleasePending(slot, address);
            }

            if (admitted)
            {
                Interlocked.Decrement(ref _admitted);
            }

            _sessions.TryRemove(session, out _);
            await session.DisposeAsync().ConfigureAwait(false);
        }

        // After a good HELLO: the connection leaves the pending slots and takes a served one, if one is free.
        bool Admit()
        {
            ReleasePending(slot, address);
            pending = false;
            if (Interlocked.Increment(ref _admitted) > _options.MaxConnections)
            {
                Interlocked.Decrement(ref _admitted);
                return false;
            }

            admitted = true;
            return true;
        }
    }

    private static async Task RefuseAsync(PageStreamSession session, string reason)
    {
        await session.RefuseAsync(ErrorCode.Unavailable, reason).ConfigureAwait(false);
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
