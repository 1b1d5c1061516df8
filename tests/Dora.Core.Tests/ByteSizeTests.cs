using Dora.Core.Units;

namespace Dora.Core.Tests;

public class ByteSizeTests
{
    [Theory]
    [InlineData("1048576", 1048576)]
    [InlineData("64KiB", 65536)]
    [InlineData("1MiB", 1048576)]
    [InlineData("1.5GiB", 1610612736)]
    [InlineData("10g", 10737418240)]
    [InlineData("2MB", 2000000)]
    public void Sizes_parse_with_binary_and_decimal_suffixes(string text, long expected)
    {
        Assert.Equal(expected, ByteSize.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ten")]
    [InlineData("-1MiB")]
    [InlineData("1.5")]
    public void Malformed_sizes_are_rejected_with_the_text(string text)
    {
        var error = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
    }
}
