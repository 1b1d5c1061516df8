using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dora.Core.Security;

/// <summary>
/// Which certificates a Dora process believes: the system's trusted roots, or only the CAs of a PEM bundle
/// (<c>--tls-ca</c>, <c>--tls-client-ca</c>) as for a private cluster CA. Servers are checked for the name the
/// registry advertises for them; client certificates (mutual TLS) for their chain alone.
/// </summary>
public sealed class TlsTrust
{
    private readonly X509Certificate2Collection? _roots;

    private TlsTrust(X509Certificate2Collection? roots, string description)
    {
        _roots = roots;
        Description = description;
    }

    /// <summary>The operating system's trusted roots.</summary>
    public static TlsTrust System { get; } = new(null, "the system's trusted CAs");

    /// <summary>What is trusted, for messages: the system store or the bundle's path.</summary>
    public string Description { get; }

    /// <summary>Trusts exactly the CA certificates of a PEM file.</summary>
    /// <exception cref="TlsConfigurationException">The file cannot be read or holds no certificate.</exception>
    public static TlsTrust FromCaFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new TlsConfigurationException($"cannot read the CA file '{path}': {e.Message}", e);
        }

        if (roots.Count == 0)
        {
            throw new TlsConfigurationException($"the CA file '{path}' holds no PEM certificate");
        }

        return new TlsTrust(roots, $"the CAs of '{Path.GetFullPath(path)}'");
    }

    /// <summary>
    /// Checks a server's certificate: its chain ends at a trusted root and it names the host it was reached at
    /// (SslStream has checked the name; <paramref name="errors"/> carries the result).
    /// </summary>
    public bool AcceptsServer(X509Certificate? certificate, SslPolicyErrors errors) => ServerProblem(certificate, errors, host: null) is null;

    /// <summary>Why a server's certificate is not accepted for <paramref name="host"/>, in words; null when it is.</summary>
    public string? ServerProblem(X509Certificate? certificate, SslPolicyErrors errors, string? host)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "the server presented no certificate";
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            using var presented = new X509Certificate2(certificate);
            string names = presented.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is { } alternative
                ? string.Join(", ", alternative.EnumerateDnsNames().Concat(alternative.EnumerateIPAddresses().Select(a => a.ToString())))
                : presented.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            return $"its certificate does not name '{host}' (it names {names})";
        }

        return ChainIsTrusted(certificate, errors) ? null : $"its certificate does not chain to {Description}";
    }

    /// <summary>Checks a client's certificate (mutual TLS): present and chained to a trusted root.</summary>
    public bool AcceptsClient(X509Certificate? certificate, SslPolicyErrors errors) =>
        certificate is not null && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 && ChainIsTrusted(certificate, errors);

    private bool ChainIsTrusted(X509Certificate certificate, SslPolicyErrors errors)
    {
        if (_roots is null)
        {
            // The platform built the chain against the system store.
            return (errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
