using Dora.Core.Errors;
using Dora.Core.Paths;

namespace Dora.Core.Tests;

public class DoraPathTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/sales", "/sales")]
    [InlineData("/sales/2024/part-0.parquet", "/sales/2024/part-0.parquet")]
    [InlineData("/sales/", "/sales")]
    [InlineData("/ünïcode/名前.parquet", "/ünïcode/名前.parquet")]
    [InlineData("/a/..b/c..", "/a/..b/c..")]
    public void Valid_paths_are_normalised(string text, string expected)
    {
        Assert.Equal(expected, DoraPath.Parse(text).Value);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("sales/x", "absolute")]
    [InlineData("/a/../b", "'..'")]
    [InlineData("/..", "'..'")]
    [InlineData("/a/./b", "'.'")]
    [InlineData("/a//b", "empty path segments")]
    [InlineData("//", "empty path segments")]
    [InlineData("/a\\..\\b", "backslashes")]
    [InlineData("/a\0b", "NUL")]
    [InlineData("/a\nb", "control characters")]
    public void Traversal_and_malformed_paths_are_rejected_with_the_reason(string text, string reasonFragment)
    {
        var error = Assert.Throws<InvalidPathException>(() => DoraPath.Parse(text));
        Assert.Contains(reasonFragment, error.Message, StringComparison.Ordinal);
        Assert.Equal(text, error.Path);
    }

    [Fact]
    public void Control_characters_are_escaped_in_the_error_message()
    {
        var error = Assert.Throws<InvalidPathException>(() => DoraPath.Parse("/a\0b"));
        Assert.Contains("/a\\u0000b", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlong_paths_and_segments_are_rejected()
    {
        Assert.Throws<InvalidPathException>(() => DoraPath.Parse("/" + new string('a', 256)));
        Assert.Throws<InvalidPathException>(() => DoraPath.Parse(string.Concat(Enumerable.Repeat("/" + new string('a', 200), 21))));
        Assert.Equal(256, DoraPath.Parse("/" + new string('a', 255)).Value.Length);
    }

    [Fact]
    public void Parent_name_and_relative_paths_follow_the_segments()
    {
        var path = DoraPath.Parse("/lake/sales/part-0.parquet");
        Assert.Equal("/lake/sales", path.Parent.Value);
        Assert.Equal("part-0.parquet", path.Name);
        Assert.Equal(DoraPath.Root, DoraPath.Parse("/lake").Parent);
        Assert.Equal("sales/part-0.parquet", path.RelativeTo(DoraPath.Parse("/lake")));
        Assert.Equal("lake/sales/part-0.parquet", path.RelativeTo(DoraPath.Root));
        Assert.True(path.IsUnder(DoraPath.Parse("/lake")));
        Assert.False(DoraPath.Parse("/lakehouse/x").IsUnder(DoraPath.Parse("/lake")));
    }

    [Fact]
    public void Combine_rejects_a_child_name_that_would_escape()
    {
        Assert.Equal("/a/b", DoraPath.Parse("/a").Combine("b").Value);
        Assert.Throws<InvalidPathException>(() => DoraPath.Parse("/a").Combine(".."));
        Assert.Throws<InvalidPathException>(() => DoraPath.Parse("/a").Combine("b/c"));
    }
}
