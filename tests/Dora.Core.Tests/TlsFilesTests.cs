using Dora.Core.Security;
using Dora.TestSupport;

namespace Dora.Core.Tests;

/// <summary>Certificate, key and CA files that cannot be used are refused at start-up with the file named, never the key.</summary>
public sealed class TlsFilesTests : IDisposable
{
    private readonly TestCertificates _ca = new();
    private readonly TemporaryDirectory _directory = new();

    public void Dispose()
    {
        _ca.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void A_matching_pair_loads_and_describes_its_subject_and_expiry()
    {
        CertificatePair pair = _ca.Server("worker-1.dora.internal");
        CertificateFiles files = CertificateFiles.Load(pair.CertificateFile, pair.KeyFile);
        Assert.Equal(pair.Thumbprint, files.Certificate.Thumbprint);
        Assert.True(files.Certificate.HasPrivateKey);
        Assert.StartsWith("worker-1.dora.internal (expires ", files.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_of_another_certificate_is_refused_naming_both_files()
    {
        CertificatePair one = _ca.Server();
        CertificatePair other = _ca.Server();
        var error = Assert.Throws<TlsConfigurationException>(() => CertificateFiles.Load(one.CertificateFile, other.KeyFile));
        Assert.Contains(one.CertificateFile, error.Message, StringComparison.Ordinal);
        Assert.Contains(other.KeyFile, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_and_non_pem_files_are_refused()
    {
        CertificatePair pair = _ca.Server();
        Assert.Throws<TlsConfigurationException>(() => CertificateFiles.Load(_directory.Combine("missing.crt"), pair.KeyFile));
        File.WriteAllText(_directory.Combine("garbage.crt"), "not a certificate");
        Assert.Throws<TlsConfigurationException>(() => CertificateFiles.Load(_directory.Combine("garbage.crt"), pair.KeyFile));
        var error = Assert.Throws<TlsConfigurationException>(() => TlsTrust.FromCaFile(_directory.Combine("garbage.crt")));
        Assert.Contains("holds no PEM certificate", error.Message, StringComparison.Ordinal);
        Assert.Throws<TlsConfigurationException>(() => TlsTrust.FromCaFile(_directory.Combine("missing.pem")));
    }
}
