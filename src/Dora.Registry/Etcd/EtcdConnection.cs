using System.Net.Http;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dora.Registry.Etcd;

/// <summary>
/// gRPC channels to the etcd endpoints. Calls use the current endpoint; <see cref="Failed"/> moves to the next one.
/// HTTP/2 keep-alive pings notice a silently dead peer (no RST, no FIN) within about ten seconds.
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly TimeSpan _callTimeout;
    private int _current;

    public EtcdConnection(EtcdRegistryOptions options)
    {
        _callTimeout = options.CallTimeout;
        _channels = new GrpcChannel[options.Endpoints.Count];
        for (int i = 0; i < _channels.Length; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(options.Endpoints[i], new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    ConnectTimeout = options.CallTimeout,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(5),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                    KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                    EnableMultipleHttp2Connections = true,
                },
                MaxReceiveMessageSize = 64 << 20,
                DisposeHttpClient = true,
            });
        }

        Endpoints = string.Join(",", options.Endpoints.Select(e => e.Authority));
    }

    /// <summary>The endpoints as <c>host:port,...</c>, for messages.</summary>
    public string Endpoints { get; }

    private GrpcChannel Channel => _channels[(int)((uint)Volatile.Read(ref _current) % (uint)_channels.Length)];

    public KV.KVClient Kv => new(Channel);

    public Lease.LeaseClient Lease => new(Channel);

    public Watch.WatchClient Watch => new(Channel);

    /// <summary>Options of a unary call: the call deadline and the caller's cancellation.</summary>
    public CallOptions Unary(CancellationToken cancellationToken) =>
        new(deadline: DateTime.UtcNow + _callTimeout, cancellationToken: cancellationToken);

    /// <summary>Options of a long-lived stream: cancellation only.</summary>
    public static CallOptions Stream(CancellationToken cancellationToken) => new(cancellationToken: cancellationToken);

    /// <summary>After a transport error: use the next endpoint for the following calls.</summary>
    public void Failed() => Interlocked.Increment(ref _current);

    /// <summary>True for errors that another attempt (later, or at another endpoint) may not have.</summary>
    public static bool IsTransient(Exception error) => error switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown
            or StatusCode.Internal or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled,
        HttpRequestException or IOException => true,
        _ => false,
    };

    /// <summary>The error a caller sees when etcd cannot be reached.</summary>
    public RegistryUnavailableException Unavailable(Exception error) => new(
        $"etcd at {Endpoints} is unreachable: {(error is RpcException rpc ? $"{rpc.StatusCode} {rpc.Status.Detail}" : error.Message)}",
        error);

    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }
    }
}
