using System.Security.Cryptography;
using System.Text;

namespace Dora.Core.Security;

/// <summary>
/// The tokens a cluster accepts: several at once, so a new one can be rolled out before the old one is retired. Servers
/// accept any of them; clients present the first. Tokens come from a file (<c>--token-file</c>, one per line) or the
/// <c>DORA_TOKEN</c> environment variable, never from the command line, where any local user could read them.
/// Comparisons take the same time whichever token, or how much of one, matches; a token never appears in a message,
/// a log line or <see cref="ToString"/>.
/// </summary>
public sealed class TokenSet
{
    /// <summary>The environment variable tokens are read from when no file is named.</summary>
    public const string EnvironmentVariable = "DORA_TOKEN";

    /// <summary>Longest token accepted, in characters.</summary>
    public const int MaxTokenLength = 1024;

    private readonly byte[][] _hashes;

    private TokenSet(IReadOnlyList<string> tokens)
    {
        Tokens = tokens;
        _hashes = [.. tokens.Select(Hash)];
    }

    /// <summary>The tokens, the one clients present first.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The token a client presents.</summary>
    public string Current => Tokens[0];

    /// <summary>
    /// True when <paramref name="presented"/> is one of the tokens. Every token is compared, each through a hash of
    /// fixed length, so neither which token matched nor a matching prefix shows in the time taken.
    /// </summary>
    public bool Accepts(string? presented)
    {
        byte[] hash = Hash(presented ?? string.Empty);
        bool accepted = false;
        foreach (byte[] expected in _hashes)
        {
            accepted |= CryptographicOperations.FixedTimeEquals(hash, expected);
        }

        return accepted && !string.IsNullOrEmpty(presented);
    }

    public override string ToString() => $"{Tokens.Count} token{(Tokens.Count == 1 ? string.Empty : "s")}";

    /// <summary>Tokens given in code (tests, embedding).</summary>
    /// <exception cref="TokenSourceException">None given, or one that is empty, too long or holds spaces or control characters.</exception>
    public static TokenSet Of(params string[] tokens) => Checked(tokens, "the token list");

    /// <summary>Tokens from a file: one per line; blank lines and lines starting with <c>#</c> are skipped.</summary>
    /// <exception cref="TokenSourceException">The file cannot be read or holds no valid token (the message never quotes it).</exception>
    public static TokenSet FromFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenSourceException($"the token file {path} cannot be read ({e.Message})");
        }

        return Checked(Lines(text), $"the token file {path}");
    }

    /// <summary>Tokens from <c>DORA_TOKEN</c> (several separated by commas or newlines); null when it is not set.</summary>
    /// <exception cref="TokenSourceException">It is set but holds no valid token.</exception>
    public static TokenSet? FromEnvironment()
    {
        string? text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return text is null ? null : Checked(Lines(text.Replace(',', '\n')), $"${EnvironmentVariable}");
    }

    /// <summary>The file's tokens when one is named, else the environment's; null when neither gives any.</summary>
    /// <exception cref="TokenSourceException">The source named or set is unusable.</exception>
    public static TokenSet? Resolve(string? tokenFile) => tokenFile is not null ? FromFile(tokenFile) : FromEnvironment();

    private static List<string> Lines(string text) =>
        [.. text.Split('\n').Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#'))];

    private static TokenSet Checked(IReadOnlyList<string> tokens, string source)
    {
        if (tokens.Count == 0)
        {
            throw new TokenSourceException($"{source} holds no token");
        }

        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (token.Length == 0 || token.Length > MaxTokenLength || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                throw new TokenSourceException($"token {i + 1} of {source} is not valid: 1 to {MaxTokenLength} characters without spaces or control characters");
            }
        }

        return new TokenSet(tokens);
    }

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}

/// <summary>A token source that cannot be used; the message names the source, never a token.</summary>
public sealed class TokenSourceException(string message) : Exception(message);
