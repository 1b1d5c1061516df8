using System.CommandLine;
using Dora.Core.Security;
using Dora.Registry.Etcd;

namespace Dora.Cli.CommandLine;

/// <summary>
/// How a command authenticates to etcd and checks it: <c>--etcd-ca</c> (TLS, etcd's certificate must chain to it),
/// <c>--etcd-cert</c>/<c>--etcd-key</c> (a client certificate, for etcd's <c>--client-cert-auth</c>), <c>--etcd-user</c>
/// with its password from <c>--etcd-password-file</c> or <c>$DORA_ETCD_PASSWORD</c>, never from the command line.
/// </summary>
internal static class EtcdOptions
{
    /// <summary>The environment variable the etcd password is read from when no file is named.</summary>
    public const string PasswordVariable = "DORA_ETCD_PASSWORD";

    public static void AddTo(Command command) => CliOptions.AddTo(
        command,
        CliOptions.Value("--etcd-ca", "FILE", "talk TLS to etcd and check its certificate against these PEM CAs"),
        CliOptions.Value("--etcd-cert", "FILE", "a PEM client certificate for etcd (etcd's --client-cert-auth); turns on TLS"),
        CliOptions.Value("--etcd-key", "FILE", "the PEM private key of --etcd-cert"),
        CliOptions.Value("--etcd-user", "NAME", "authenticate to etcd as this user (etcd RBAC; docs/registry.md)"),
        CliOptions.Value("--etcd-password-file", "FILE", $"the etcd user's password, the file's first line (default: ${PasswordVariable})"));

    /// <exception cref="UsageException">A file cannot be used, or the options do not go together.</exception>
    public static EtcdCredentials Read(ArgumentReader reader)
    {
        string? ca = reader.String("--etcd-ca");
        string? certificate = reader.String("--etcd-cert");
        string? key = reader.String("--etcd-key");
        string? user = reader.String("--etcd-user");
        string? passwordFile = reader.String("--etcd-password-file");
        if ((certificate is null) != (key is null))
        {
            throw new UsageException("options '--etcd-cert' and '--etcd-key' go together");
        }

        if (passwordFile is not null && user is null)
        {
            throw new UsageException("option '--etcd-password-file' needs '--etcd-user'");
        }

        ClientTls? tls;
        try
        {
            tls = ca is null && certificate is null
                ? null
                : new ClientTls(ca is null ? TlsTrust.System : TlsTrust.FromCaFile(ca), certificate is null ? null : CertificateFiles.Load(certificate, key!), Required: true);
        }
        catch (TlsConfigurationException e)
        {
            throw new UsageException($"etcd TLS: {e.Message}");
        }

        return new EtcdCredentials { Tls = tls, User = user, Password = user is null ? null : ReadPassword(user, passwordFile) };
    }

    private static string ReadPassword(string user, string? file)
    {
        string? password;
        if (file is not null)
        {
            try
            {
                password = File.ReadLines(file).FirstOrDefault();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"option '--etcd-password-file': cannot read '{file}': {e.Message}");
            }

            if (string.IsNullOrEmpty(password))
            {
                throw new UsageException($"option '--etcd-password-file': the first line of '{file}' is empty");
            }

            return password;
        }

        password = Environment.GetEnvironmentVariable(PasswordVariable);
        return string.IsNullOrEmpty(password)
            ? throw new UsageException($"etcd user '{user}' needs a password: --etcd-password-file FILE or ${PasswordVariable}")
            : password;
    }
}
