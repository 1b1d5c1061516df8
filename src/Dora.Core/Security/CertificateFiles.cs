using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dora.Core.Security;

/// <summary>
/// A certificate and its private key in PEM files (<c>--tls-cert</c>, <c>--tls-key</c>), reloaded when either file
/// changes, so a renewed certificate (cert-manager, certbot, a rotation script) is served by the next handshake
/// without a restart. The files are looked at no more than once per <see cref="CheckInterval"/>. A change that cannot
/// be loaded (one file rewritten before the other, a key that does not match) keeps the previous certificate until
/// the pair is whole again; <see cref="LastReloadError"/> says why.
/// </summary>
public sealed class CertificateFiles
{
    /// <summary>How often the files are checked for a change: once a second at most.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private Loaded _loaded;
    private long _nextCheck;

    private CertificateFiles(string certificatePath, string keyPath, TimeProvider time, Loaded loaded)
    {
        CertificatePath = certificatePath;
        KeyPath = keyPath;
        _time = time;
        _loaded = loaded;
        _nextCheck = time.GetTimestamp();
    }

    /// <summary>The PEM certificate file (the certificate first, then any intermediates).</summary>
    public string CertificatePath { get; }

    /// <summary>The PEM private key file.</summary>
    public string KeyPath { get; }

    /// <summary>Why the last change of the files could not be loaded; null once a load succeeds.</summary>
    public string? LastReloadError { get; private set; }

    /// <summary>How many times a changed pair was loaded after the first.</summary>
    public int Reloads { get; private set; }

    /// <summary>Loads the pair.</summary>
    /// <exception cref="TlsConfigurationException">A file is missing or unreadable, not PEM, or the key does not match.</exception>
    public static CertificateFiles Load(string certificatePath, string keyPath, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        ArgumentException.ThrowIfNullOrEmpty(keyPath);
        string certificate = Path.GetFullPath(certificatePath);
        string key = Path.GetFullPath(keyPath);
        return new CertificateFiles(certificate, key, time ?? TimeProvider.System, Read(certificate, key));
    }

    /// <summary>The certificate to present now (with its private key).</summary>
    public X509Certificate2 Certificate => Current().Certificate;

    /// <summary>The certificate with its intermediates, as servers present it (built once per load).</summary>
    public SslStreamCertificateContext Context => Current().Context;

    /// <summary>The certificate's subject and expiry, for start-up lines.</summary>
    public string Describe()
    {
        X509Certificate2 certificate = Certificate;
        return $"{certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false)} (expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})";
    }

    private Loaded Current()
    {
        long now = _time.GetTimestamp();
        if (now < Volatile.Read(ref _nextCheck))
        {
            return Volatile.Read(ref _loaded);
        }

        lock (_lock)
        {
            if (now >= _nextCheck)
            {
                _nextCheck = now + (long)(CheckInterval.TotalSeconds * _time.TimestampFrequency);
                ReloadIfChanged();
            }

            return _loaded;
        }
    }

    private void ReloadIfChanged()
    {
        FileStamp certificate = FileStamp.Of(CertificatePath);
        FileStamp key = FileStamp.Of(KeyPath);
        if (certificate == _loaded.CertificateStamp && key == _loaded.KeyStamp)
        {
            return;
        }

        try
        {
            Volatile.Write(ref _loaded, Read(CertificatePath, KeyPath));
            LastReloadError = null;
            Reloads++;
        }
        catch (TlsConfigurationException e)
        {
            // Keep serving the previous pair; the next check tries again.
            LastReloadError = e.Message;
        }
    }

    private static Loaded Read(string certificatePath, string keyPath)
    {
        FileStamp certificateStamp = FileStamp.Of(certificatePath);
        FileStamp keyStamp = FileStamp.Of(keyPath);
        X509Certificate2 certificate;
        X509Certificate2Collection chain;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            chain = [];
            chain.ImportFromPemFile(certificatePath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsConfigurationException($"cannot load the TLS certificate '{certificatePath}' with the key '{keyPath}': {e.Message}", e);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new TlsConfigurationException($"the TLS certificate '{certificatePath}' has no private key in '{keyPath}'");
        }

        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 other in chain)
        {
            if (other.Thumbprint != certificate.Thumbprint)
            {
                intermediates.Add(other);
            }
        }

        var context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
        return new Loaded(certificate, context, certificateStamp, keyStamp);
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context, FileStamp CertificateStamp, FileStamp KeyStamp);

    /// <summary>What tells a rewritten file from the loaded one: its change time and length (missing: both zero).</summary>
    private readonly record struct FileStamp(DateTime Changed, long Length)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : default;
        }
    }
}
