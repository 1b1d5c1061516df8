using Dora.Core.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Dora.Hosting;

/// <summary>
/// TLS on a Kestrel endpoint (worker HTTP, Flight, scheduler) with the same handshake options the page stream uses:
/// the certificate current at each handshake (so a renewed one is served without a restart), TLS 1.2/1.3, and client
/// certificates when mutual TLS is on.
/// </summary>
public static class KestrelTls
{
    /// <summary>Longest a TLS handshake may take before the connection is dropped: 10 s, as the header timeout.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Serves TLS on <paramref name="listen"/> when <paramref name="tls"/> is set; plaintext otherwise.</summary>
    public static void UseTls(this ListenOptions listen, ServerTls? tls)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (tls is null)
        {
            return;
        }

        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(tls.ForHandshake()),
            HandshakeTimeout = HandshakeTimeout,
        });
    }
}
