using Dora.Core.Security;
using Dora.TestSupport;

namespace Dora.Core.Tests;

public sealed class TokenSetTests
{
    [Fact]
    public void Any_token_of_the_set_is_accepted_and_nothing_else()
    {
        TokenSet tokens = TokenSet.Of("old-token", "new-token");
        Assert.True(tokens.Accepts("old-token"));
        Assert.True(tokens.Accepts("new-token"));
        Assert.False(tokens.Accepts("old-toke"));
        Assert.False(tokens.Accepts("old-token2"));
        Assert.False(tokens.Accepts(string.Empty));
        Assert.False(tokens.Accepts(null));
        Assert.Equal("old-token", tokens.Current);
        Assert.Equal("2 tokens", tokens.ToString());
    }

    [Fact]
    public void A_token_file_holds_one_token_per_line_with_comments_and_blank_lines()
    {
        using var directory = new TemporaryDirectory();
        string file = directory.Combine("tokens");
        File.WriteAllText(file, "# rotated 2026-12-01\n\n  first-token  \r\nsecond-token\n");
        TokenSet tokens = TokenSet.FromFile(file);
        Assert.Equal(["first-token", "second-token"], tokens.Tokens);
    }

    [Fact]
    public void An_empty_or_unreadable_source_is_refused_without_quoting_a_token()
    {
        using var directory = new TemporaryDirectory();
        string empty = directory.Combine("empty");
        File.WriteAllText(empty, "# nothing yet\n\n");
        Assert.Contains("holds no token", Assert.Throws<TokenSourceException>(() => TokenSet.FromFile(empty)).Message, StringComparison.Ordinal);
        Assert.Contains("cannot be read", Assert.Throws<TokenSourceException>(() => TokenSet.FromFile(directory.Combine("missing"))).Message, StringComparison.Ordinal);

        string spaced = directory.Combine("spaced");
        File.WriteAllText(spaced, "secret with spaces\n");
        var error = Assert.Throws<TokenSourceException>(() => TokenSet.FromFile(spaced));
        Assert.Contains("token 1 of the token file", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.Throws<TokenSourceException>(() => TokenSet.Of(new string('x', TokenSet.MaxTokenLength + 1)));
    }
}
