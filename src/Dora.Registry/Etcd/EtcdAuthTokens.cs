using Etcdserverpb;
using Grpc.Core;

namespace Dora.Registry.Etcd;

/// <summary>
/// etcd's password authentication: one <c>Authenticate</c> call yields a token that every later call carries in the
/// <c>token</c> header. The token is fetched on first use and again after etcd says it is no longer valid (etcd
/// restarted, or its token TTL passed), so callers only ever see a retry.
/// </summary>
internal sealed class EtcdAuthTokens(EtcdCredentials credentials, TimeSpan callTimeout) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;

    /// <summary>Per-call credentials that attach the current token, authenticating first when there is none.</summary>
    public CallCredentials CallCredentials(Func<Auth.AuthClient> auth) => Grpc.Core.CallCredentials.FromInterceptor(async (context, metadata) =>
    {
        string token = await CurrentAsync(auth(), context.CancellationToken).ConfigureAwait(false);
        metadata.Add("token", token);
    });

    /// <summary>After etcd refused the token: the next call authenticates again.</summary>
    public void Invalidate() => Volatile.Write(ref _token, null);

    private async Task<string> CurrentAsync(Auth.AuthClient auth, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _token) is { } current)
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is not null)
            {
                return _token;
            }

            AuthenticateResponse response;
            try
            {
                response = await auth.AuthenticateAsync(
                    new AuthenticateRequest { Name = credentials.User, Password = credentials.Password ?? string.Empty },
                    new CallOptions(deadline: DateTime.UtcNow + callTimeout, cancellationToken: cancellationToken)).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.PermissionDenied)
            {
                // "authentication failed, invalid user ID or password", "authentication is not enabled", ...
                throw new RegistryAccessDeniedException($"etcd refused user '{credentials.User}': {e.Status.Detail}", e);
            }

            _token = response.Token;
            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
