using System.CommandLine;
using Dora.S3Gateway;
using Dora.S3Gateway.Auth;

namespace Dora.Cli.CommandLine;

/// <summary>
/// The S3 gateway options of a worker: <c>--s3-port</c>, the key pairs (<c>--s3-credentials FILE</c> in the AWS
/// shared-credentials format, else <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>), <c>--s3-anonymous</c>,
/// <c>--s3-domain</c> and <c>--s3-region</c>. Without key pairs and without <c>--s3-anonymous</c> the gateway is off:
/// it never opens a worker's bytes to unsigned requests unless told to.
/// </summary>
internal sealed record S3GatewaySettings(int Port, S3KeyPairs? Keys, bool Anonymous, string? Domain, string Region, long? RedirectMinBytes)
{
    public static void AddOptions(Command command, string ports) => CliOptions.AddTo(
        command,
        CliOptions.Value("--s3-port", "PORT", $"S3 gateway port (default {S3GatewayOptions.DefaultPort}; 0 picks a free one{ports})"),
        CliOptions.Value("--s3-credentials", "FILE", "S3 key pairs the gateway accepts, in the AWS shared-credentials format (default: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, the variables S3 mounts also read; without either the gateway is off)"),
        CliOptions.Flag("--s3-anonymous", "let the S3 gateway serve unsigned requests too (refused when tokens protect the worker)"),
        CliOptions.Value("--s3-domain", "DOMAIN", "also address buckets virtual-host style, as BUCKET.DOMAIN"),
        CliOptions.Value("--s3-region", "REGION", "the region the gateway reports (default us-east-1)"),
        CliOptions.Value("--s3-redirect", "SIZE", "redirect GETs of objects of at least SIZE owned by another worker to that worker's gateway (307; clients must follow redirects; default: read through the owner)"));

    /// <summary>True when the gateway is to run: it has key pairs, or anonymous access was asked for.</summary>
    public bool Enabled => Keys is not null || Anonymous;

    /// <exception cref="UsageException">The credentials cannot be used, or anonymous access is asked for on a worker with tokens.</exception>
    public static S3GatewaySettings Read(ArgumentReader reader, bool hasTokens)
    {
        S3KeyPairs? keys;
        try
        {
            keys = reader.String("--s3-credentials") is { } file ? S3KeyPairs.FromFile(file) : S3KeyPairs.FromEnvironment();
        }
        catch (S3CredentialsException e)
        {
            throw new UsageException(e.Message);
        }

        bool anonymous = reader.Flag("--s3-anonymous");
        if (anonymous && hasTokens)
        {
            throw new UsageException("option '--s3-anonymous' would open to anyone the bytes the tokens protect; give the S3 clients key pairs (--s3-credentials) instead");
        }

        return new S3GatewaySettings(
            reader.Int("--s3-port", S3GatewayOptions.DefaultPort, 0, 65535), keys, anonymous, reader.String("--s3-domain"), reader.String("--s3-region") ?? "us-east-1",
            reader.String("--s3-redirect") is null ? null : reader.Bytes("--s3-redirect", 0));
    }

    public S3GatewayOptions ToOptions(int port) => new() { Port = port, Keys = Keys, AllowAnonymous = Anonymous, Domain = Domain, Region = Region, RedirectMinBytes = RedirectMinBytes };
}
