using System.Net.Security;
using System.Security.Authentication;

namespace Dora.Core.Security;

/// <summary>
/// TLS as a server serves it: one certificate for every face (reloaded when its files change) and, for mutual TLS,
/// the CAs client certificates must chain to. TLS 1.2 and 1.3 only.
/// </summary>
public sealed record ServerTls(CertificateFiles Certificate, TlsTrust? ClientCertificates = null)
{
    /// <summary>The protocol versions every face accepts.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>True when clients must present a certificate (mutual TLS).</summary>
    public bool RequiresClientCertificate => ClientCertificates is not null;

    /// <summary>Options of one handshake on a raw stream (the page stream), with the certificate current now.</summary>
    public SslServerAuthenticationOptions ForHandshake() => new()
    {
        ServerCertificateContext = Certificate.Context,
        EnabledSslProtocols = Protocols,
        ClientCertificateRequired = RequiresClientCertificate,
        RemoteCertificateValidationCallback = RequiresClientCertificate
            ? (_, certificate, _, errors) => ClientCertificates!.AcceptsClient(certificate, errors)
            : null,
    };
}
