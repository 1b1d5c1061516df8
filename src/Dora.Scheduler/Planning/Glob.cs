using System.Text;
using System.Text.RegularExpressions;

namespace Dora.Scheduler.Planning;

/// <summary>
/// Shell-style patterns over Dora paths: <c>*</c> matches within one path segment, <c>**</c> across segments (<c>**/</c>
/// also matches no directory at all), <c>?</c> one character other than <c>/</c>; everything else matches itself.
/// </summary>
internal static class Glob
{
    public static bool HasWildcards(string text) => text.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>An anchored regular expression for the pattern.</summary>
    public static Regex Compile(string pattern)
    {
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                bool slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(?:.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(c switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    _ => Regex.Escape(c.ToString()),
                });
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }
}
