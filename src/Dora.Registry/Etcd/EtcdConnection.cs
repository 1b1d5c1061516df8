using System.Net.Http;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dora.Registry.Etcd;

/// <summary>
/// gRPC channels to the etcd endpoints. Calls use the current endpoint; <see cref="Failed"/> moves to the next one.
/// HTTP/2 keep-alive pings notice a silently dead peer (no RST, no FIN) within about ten seconds. With credentials,
/// the channels speak TLS (checking etcd's certificate, presenting the client's) and every call carries the user's
/// auth token.
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly TimeSpan _callTimeout;
    private readonly EtcdAuthTokens? _tokens;
    private readonly CallCredentials? _callCredentials;
    private int _current;

    public EtcdConnection(EtcdRegistryOptions options)
    {
        _callTimeout = options.CallTimeout;
        EtcdCredentials credentials = options.Credentials;
        _channels = new GrpcChannel[options.Endpoints.Count];
        for (int i = 0; i < _channels.Length; i++)
        {
            Uri endpoint = credentials.Tls is null ? options.Endpoints[i] : new UriBuilder(options.Endpoints[i]) { Scheme = "https" }.Uri;
            SocketsHttpHandler handler = credentials.Tls?.CreateHandler() ?? new SocketsHttpHandler();
            handler.ConnectTimeout = options.CallTimeout;
            handler.KeepAlivePingDelay = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(5);
            handler.KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always;
            handler.EnableMultipleHttp2Connections = true;
            _channels[i] = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
            {
                HttpHandler = handler,
                MaxReceiveMessageSize = 64 << 20,
                DisposeHttpClient = true,

                // etcd accepts password authentication over plaintext too; whether to allow that is the operator's call
                // (docs/registry.md recommends TLS), so the token is attached either way.
                UnsafeUseInsecureChannelCallCredentials = credentials.HasUser,
            });
        }

        if (credentials.HasUser)
        {
            _tokens = new EtcdAuthTokens(credentials, options.CallTimeout);
            _callCredentials = _tokens.CallCredentials(() => new Auth.AuthClient(Channel));
        }

        Endpoints = string.Join(",", options.Endpoints.Select(e => e.Authority));
        Credentials = credentials;
    }

    /// <summary>How this process authenticates to etcd, for messages (never the password).</summary>
    public EtcdCredentials Credentials { get; }

    /// <summary>The endpoints as <c>host:port,...</c>, for messages.</summary>
    public string Endpoints { get; }

    private GrpcChannel Channel => _channels[(int)((uint)Volatile.Read(ref _current) % (uint)_channels.Length)];

    public KV.KVClient Kv => new(Channel);

    public Lease.LeaseClient Lease => new(Channel);

    public Watch.WatchClient Watch => new(Channel);

    /// <summary>Options of a unary call: the call deadline and the caller's cancellation.</summary>
    public CallOptions Unary(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + _callTimeout, cancellationToken: cancellationToken, credentials: _callCredentials);

    /// <summary>Options of a long-lived stream: cancellation only.</summary>
    public CallOptions Stream(CancellationToken cancellationToken) => new(cancellationToken: cancellationToken, credentials: _callCredentials);

    /// <summary>After a transport error: use the next endpoint for the following calls.</summary>
    public void Failed() => Interlocked.Increment(ref _current);

    /// <summary>
    /// True for errors that another attempt (later, or at another endpoint) may not have. An auth token etcd no longer
    /// accepts (it restarted, or the token's TTL passed) is one: it is dropped, and the retry authenticates again.
    /// </summary>
    public bool IsTransient(Exception error)
    {
        if (Denial(error, "reach the registry") is not null)
        {
            return false;
        }

        if (error is RpcException { StatusCode: StatusCode.Unauthenticated } expired && _tokens is not null
            && expired.Status.Detail.Contains("invalid auth token", StringComparison.Ordinal))
        {
            _tokens.Invalidate();
            return true;
        }

        return IsTransportError(error);
    }

    private static bool IsTransportError(Exception error) => error switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown
            or StatusCode.Internal or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled,
        HttpRequestException or IOException => true,
        _ => false,
    };

    /// <summary>The error a caller sees when etcd cannot be reached.</summary>
    public RegistryUnavailableException Unavailable(Exception error) => new(
        $"etcd at {Endpoints} is unreachable: {(error is RpcException rpc ? $"{rpc.StatusCode} {rpc.Status.Detail}" : error.Message)}"
        + (Credentials.Tls is { Certificate: null } ? " (if etcd requires client certificates, give --etcd-cert and --etcd-key)" : string.Empty),
        error);

    /// <summary>
    /// The error to report when etcd refused this process's credentials, or what they allow, for <paramref name="action"/>
    /// (e.g. "write /dora/default/workers/w3"); null for any other error.
    /// </summary>
    public RegistryAccessDeniedException? Denial(Exception error, string action)
    {
        // A refusal inside the credentials callback (a wrong password) reaches the caller wrapped by gRPC.
        if (error is RpcException { Status.DebugException: RegistryAccessDeniedException refused })
        {
            return refused;
        }

        string user = Credentials.User is { } name ? $"user '{name}'" : "this client";
        return error switch
        {
            RpcException { StatusCode: StatusCode.PermissionDenied } rpc =>
                new RegistryAccessDeniedException($"etcd does not let {user} {action}: {rpc.Status.Detail} (the user's roles decide; docs/registry.md)", rpc),
            RpcException { StatusCode: StatusCode.InvalidArgument } rpc when rpc.Status.Detail.Contains("user name is empty", StringComparison.Ordinal) =>
                new RegistryAccessDeniedException($"etcd requires authentication: give --etcd-user and its password ({rpc.Status.Detail})", rpc),
            _ => null,
        };
    }

    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }

        _tokens?.Dispose();
    }
}
