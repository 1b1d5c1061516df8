using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Dora.Flight;

/// <summary>
/// With a token configured (<see cref="FlightOptions.AuthToken"/>), every Flight call must carry
/// <c>authorization: Bearer &lt;token&gt;</c>; calls without it get <c>Unauthenticated</c>. Handshake is the one
/// exception: it may present the token as its payload instead (docs/flight.md).
/// </summary>
internal sealed class BearerTokenInterceptor(FlightContext flight) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!context.Method.EndsWith("/Handshake", StringComparison.Ordinal))
        {
            Authorize(context);
        }

        return continuation(requestStream, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        if (flight.Options.AuthToken is { } expected && !HasToken(context.RequestHeaders, expected))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "this worker requires a token: send the header 'authorization: Bearer <token>'"));
        }
    }

    /// <summary>True when the headers carry <c>Bearer &lt;expected&gt;</c> (compared in constant time).</summary>
    public static bool HasToken(Metadata headers, string expected)
    {
        string? value = headers.GetValue("authorization");
        return value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && Matches(value["Bearer ".Length..], expected);
    }

    public static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));
}
