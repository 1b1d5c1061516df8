using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Dora.Flight;

/// <summary>
/// With tokens configured (<see cref="FlightOptions.Tokens"/>), every Flight call must carry
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
        if (flight.Options.Tokens is { } tokens && !HasToken(context.RequestHeaders, tokens))
        {
            flight.Audit.Refused(context.Peer, context.RequestHeaders.GetValue("authorization") is null ? $"no token ({context.Method})" : $"a token that is not accepted ({context.Method})");
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "this worker requires a token: send the header 'authorization: Bearer <token>'"));
        }
    }

    /// <summary>True when the headers carry <c>Bearer &lt;token&gt;</c> with one of the tokens (compared in constant time).</summary>
    public static bool HasToken(Metadata headers, Dora.Core.Security.TokenSet tokens)
    {
        string? value = headers.GetValue("authorization");
        return value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && tokens.Accepts(value["Bearer ".Length..]);
    }
}
