using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dora.TestSupport;

/// <summary>
/// A private CA for a test, and PEM certificate/key files issued by it, as an operator would make them with openssl:
/// server certificates for the names clients connect to, client certificates for mutual TLS.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly TemporaryDirectory _directory = new("tls");
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;
    private int _issued;

    public TestCertificates(string name = "Dora Test CA")
    {
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaFile = _directory.Combine("ca.pem");
        File.WriteAllText(CaFile, _ca.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM), for <c>--tls-ca</c>, <c>--tls-client-ca</c> and etcd's <c>--trusted-ca-file</c>.</summary>
    public string CaFile { get; }

    /// <summary>A server certificate for <paramref name="names"/> (IP addresses or DNS names), default 127.0.0.1 and localhost.</summary>
    public CertificatePair Server(params string[] names) =>
        Issue(names.Length == 0 ? ["127.0.0.1", "localhost"] : names, new Oid("1.3.6.1.5.5.7.3.1"), names.Length == 0 ? "localhost" : names[0]);

    /// <summary>A client certificate whose common name is <paramref name="commonName"/> (etcd takes it as the user name).</summary>
    public CertificatePair Client(string commonName) => Issue([], new Oid("1.3.6.1.5.5.7.3.2"), commonName);

    private CertificatePair Issue(string[] names, Oid usage, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], false));
        if (names.Length > 0)
        {
            var alternative = new SubjectAlternativeNameBuilder();
            foreach (string name in names)
            {
                if (IPAddress.TryParse(name, out IPAddress? address))
                {
                    alternative.AddIpAddress(address);
                }
                else
                {
                    alternative.AddDnsName(name);
                }
            }

            request.CertificateExtensions.Add(alternative.Build());
        }

        byte[] serial = BitConverter.GetBytes(Interlocked.Increment(ref _issued) + Environment.TickCount64);
        using X509Certificate2 certificate = request.Create(_ca.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey), DateTimeOffset.UtcNow.AddMinutes(-30), DateTimeOffset.UtcNow.AddDays(7), serial);
        string stem = _directory.Combine($"{commonName}-{_issued}");
        var pair = new CertificatePair(stem + ".crt", stem + ".key", certificate.Thumbprint);
        File.WriteAllText(pair.CertificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(pair.KeyFile, key.ExportPkcs8PrivateKeyPem());
        return pair;
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        _directory.Dispose();
    }
}

/// <summary>A certificate and its key as PEM files, and the certificate's thumbprint.</summary>
public sealed record CertificatePair(string CertificateFile, string KeyFile, string Thumbprint);
