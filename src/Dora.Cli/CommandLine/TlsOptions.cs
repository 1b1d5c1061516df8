using System.CommandLine;
using Dora.Core.Security;

namespace Dora.Cli.CommandLine;

/// <summary>
/// The TLS options, one set for every process. <c>--tls-cert</c>/<c>--tls-key</c> is this process's certificate: a
/// worker or scheduler serves every face with it, and any process presents it to servers that ask for a client
/// certificate (mutual TLS). <c>--tls-ca</c> is whom to believe (default: the system store); <c>--tls-client-ca</c> makes
/// a server require client certificates from those CAs. A client given <c>--tls-ca</c> or <c>--require-tls</c>, and
/// any server running TLS, refuses workers advertised without TLS rather than send them its token.
/// </summary>
internal sealed record TlsOptions(CertificateFiles? Certificate, TlsTrust Trust, TlsTrust? ClientCas, bool Required)
{
    private const string CertOption = "--tls-cert";
    private const string KeyOption = "--tls-key";
    private const string CaOption = "--tls-ca";
    private const string ClientCaOption = "--tls-client-ca";
    private const string RequireOption = "--require-tls";

    /// <summary>No TLS options given: plaintext servers, TLS toward workers that advertise it (system store).</summary>
    public static TlsOptions None { get; } = new(null, TlsTrust.System, null, Required: false);

    /// <summary>The options of a server (worker, local, scheduler).</summary>
    public static void AddServerOptions(Command command) => CliOptions.AddTo(
        command,
        CliOptions.Value(CertOption, "FILE", "serve TLS on every port with this PEM certificate (and intermediates), reloaded when it changes; also presented to servers that ask for a client certificate"),
        CliOptions.Value(KeyOption, "FILE", $"the PEM private key of {CertOption}"),
        CliOptions.Value(CaOption, "FILE", "PEM CA certificates that workers this process connects to must chain to (default: the system store)"),
        CliOptions.Value(ClientCaOption, "FILE", $"require client certificates chained to these PEM CAs on every port (mutual TLS; needs {CertOption})"));

    /// <summary>The options of a client command.</summary>
    public static void AddClientOptions(Command command) => CliOptions.AddTo(
        command,
        CliOptions.Value(CaOption, "FILE", "PEM CA certificates the servers must chain to (default: the system store); implies --require-tls"),
        CliOptions.Value(CertOption, "FILE", "a PEM client certificate for servers that require one (mutual TLS)"),
        CliOptions.Value(KeyOption, "FILE", $"the PEM private key of {CertOption}"),
        CliOptions.Flag(RequireOption, "refuse servers advertised without TLS (they would get the token in clear)"));

    /// <summary>The server's TLS, null when it serves plaintext.</summary>
    public ServerTls? Server => Certificate is null ? null : new ServerTls(Certificate, ClientCas);

    /// <summary>How this process checks the servers it connects to.</summary>
    public ClientTls Client => new(Trust, Certificate, Required);

    /// <summary>Reads the options; <paramref name="server"/> for worker, local and scheduler.</summary>
    /// <exception cref="UsageException">A file cannot be used, or options that go together are not given together.</exception>
    public static TlsOptions Read(ArgumentReader reader, bool server)
    {
        string? certificate = reader.String(CertOption);
        string? key = reader.String(KeyOption);
        string? ca = reader.String(CaOption);
        string? clientCa = server ? reader.String(ClientCaOption) : null;
        if ((certificate is null) != (key is null))
        {
            throw new UsageException($"options '{CertOption}' and '{KeyOption}' go together");
        }

        if (clientCa is not null && certificate is null)
        {
            throw new UsageException($"option '{ClientCaOption}' needs '{CertOption}' and '{KeyOption}': client certificates are only asked for over TLS");
        }

        try
        {
            CertificateFiles? files = certificate is null ? null : CertificateFiles.Load(certificate, key!);
            TlsTrust trust = ca is null ? TlsTrust.System : TlsTrust.FromCaFile(ca);
            TlsTrust? clientCas = clientCa is null ? null : TlsTrust.FromCaFile(clientCa);
            bool required = (server && files is not null) || ca is not null || (!server && reader.Flag(RequireOption));
            return new TlsOptions(files, trust, clientCas, required);
        }
        catch (TlsConfigurationException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
