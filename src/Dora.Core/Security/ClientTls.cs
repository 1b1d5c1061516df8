using System.Net.Http;
using System.Net.Security;
using System.Runtime.CompilerServices;

namespace Dora.Core.Security;

/// <summary>
/// TLS as a client uses it: whom to believe (<see cref="Trust"/>), the certificate to present when servers ask for one
/// (mutual TLS), and whether plaintext servers are refused. Servers are checked for the host the registry advertises,
/// so a token is only ever sent to the worker the registry names.
/// </summary>
public sealed record ClientTls(TlsTrust Trust, CertificateFiles? Certificate = null, bool Required = false)
{
    /// <summary>Trusts the system store, presents nothing, and still talks to plaintext servers.</summary>
    public static ClientTls Default { get; } = new(TlsTrust.System);

    /// <summary>Options of one handshake with <paramref name="host"/>; <paramref name="refusal"/>, when given, gets why a certificate was refused.</summary>
    public SslClientAuthenticationOptions ForHost(string host, StrongBox<string?>? refusal = null) => new()
    {
        TargetHost = host,
        EnabledSslProtocols = ServerTls.Protocols,
        RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            string? problem = Trust.ServerProblem(certificate, errors, host);
            if (refusal is not null)
            {
                refusal.Value = problem;
            }

            return problem is null;
        },
        LocalCertificateSelectionCallback = Certificate is null ? null : (_, _, _, _, _) => Certificate.Certificate,
    };

    /// <summary>An HTTP handler (HttpClient, gRPC) that checks servers this way and presents the certificate.</summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.EnabledSslProtocols = ServerTls.Protocols;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trust.AcceptsServer(certificate, errors);
        if (Certificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate.Certificate;
        }

        return handler;
    }

    /// <summary>A message for a refused plaintext endpoint.</summary>
    public static string PlaintextRefused(string what) =>
        $"{what} is advertised without TLS while this client requires TLS; no token is sent to it";
}
