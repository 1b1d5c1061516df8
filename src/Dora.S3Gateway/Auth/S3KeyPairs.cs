namespace Dora.S3Gateway.Auth;

/// <summary>
/// The access-key/secret pairs the gateway accepts: every profile of a file in the AWS shared-credentials format
/// (<c>--s3-credentials FILE</c>: <c>[profile]</c> sections with <c>aws_access_key_id</c> and
/// <c>aws_secret_access_key</c>), else <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>. A secret never appears in
/// a message or <see cref="ToString"/>.
/// </summary>
public sealed class S3KeyPairs
{
    private readonly Dictionary<string, string> _secrets;

    private S3KeyPairs(Dictionary<string, string> secrets) => _secrets = secrets;

    /// <summary>How many pairs are accepted.</summary>
    public int Count => _secrets.Count;

    /// <summary>The secret of <paramref name="accessKey"/>, or null when the key is unknown.</summary>
    public string? SecretOf(string accessKey) => _secrets.GetValueOrDefault(accessKey);

    public override string ToString() => $"{Count} key pair{(Count == 1 ? string.Empty : "s")}";

    /// <summary>Pairs given in code (tests, embedding).</summary>
    public static S3KeyPairs Of(params (string AccessKey, string Secret)[] pairs) =>
        new(pairs.ToDictionary(p => Checked(p.AccessKey, "an access key", "the pair list"), p => Checked(p.Secret, "a secret", "the pair list"), StringComparer.Ordinal));

    /// <summary>Every profile of a shared-credentials file.</summary>
    /// <exception cref="S3CredentialsException">The file cannot be read, a profile lacks a field, or it holds no pair.</exception>
    public static S3KeyPairs FromFile(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new S3CredentialsException($"cannot read the S3 credentials file '{path}': {e.Message}");
        }

        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        string? profile = null;
        string? accessKey = null;
        string? secret = null;
        int profileLine = 0;
        for (int i = 0; i <= lines.Length; i++)
        {
            string line = i < lines.Length ? lines[i].Trim() : "[end]";
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[' && line[^1] == ']')
            {
                if (profile is not null)
                {
                    if (accessKey is null || secret is null)
                    {
                        throw new S3CredentialsException($"profile [{profile}] of '{path}' (line {profileLine}) needs both aws_access_key_id and aws_secret_access_key");
                    }

                    secrets[accessKey] = secret;
                }

                profile = line[1..^1].Trim();
                profileLine = i + 1;
                accessKey = secret = null;
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || profile is null)
            {
                throw new S3CredentialsException($"line {i + 1} of '{path}' is not 'name = value' inside a [profile] section");
            }

            string name = line[..equals].Trim().ToLowerInvariant();
            string value = line[(equals + 1)..].Trim();
            if (name == "aws_access_key_id")
            {
                accessKey = Checked(value, "an access key", $"line {i + 1} of '{path}'");
            }
            else if (name == "aws_secret_access_key")
            {
                secret = Checked(value, "a secret", $"line {i + 1} of '{path}'");
            }
        }

        return secrets.Count == 0 ? throw new S3CredentialsException($"the S3 credentials file '{path}' holds no profile with a key pair") : new S3KeyPairs(secrets);
    }

    /// <summary>The pair of <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>, or null when neither is set.</summary>
    /// <exception cref="S3CredentialsException">Only one of the two is set.</exception>
    public static S3KeyPairs? FromEnvironment()
    {
        string? accessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        string? secret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(accessKey) && string.IsNullOrEmpty(secret))
        {
            return null;
        }

        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secret))
        {
            throw new S3CredentialsException("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together; only one is set");
        }

        return Of((accessKey, secret));
    }

    private static string Checked(string value, string what, string where)
    {
        if (value.Length is 0 or > 256 || value.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            throw new S3CredentialsException($"{where} holds {what} that is empty, longer than 256 characters, or has spaces or control characters");
        }

        return value;
    }
}

/// <summary>S3 key pairs that cannot be used; the message names the source and line, never a secret.</summary>
public sealed class S3CredentialsException(string message) : Exception(message);
