using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;

namespace Dora.Worker.Pages;

/// <summary>
/// Identifies one version of one file in the page store: a 128-bit XxHash of the path and its fingerprint. A changed
/// file gets a new key, so its old pages can never be served for it.
/// </summary>
public readonly record struct FileKey(UInt128 Value)
{
    public static FileKey For(DoraPath path, Fingerprint fingerprint)
    {
        var text = path.Value + "\n" + fingerprint.ToKeyString();
        var hash = XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(text));
        return new FileKey(hash);
    }

    /// <summary>32 lower-case hex digits; used in page file names.</summary>
    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);

    public static bool TryParse(ReadOnlySpan<char> hex, out FileKey key)
    {
        key = default;
        if (hex.Length != 32 || !UInt128.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        key = new FileKey(value);
        return true;
    }
}
