using System.Globalization;
using Dora.Core.Paths;

namespace Dora.Worker.Metadata;

/// <summary>
/// Keys of metadata entries, the same in memory and in RocksDB: <c>s{path}</c> for a status (or negative) entry and
/// <c>l{path}\0{after}\0{limit}</c> for one listing page. Paths never contain NUL, so the key of a path ends where
/// its body does.
/// </summary>
internal static class MetadataKeys
{
    public static string Status(DoraPath path) => "s" + path.Value;

    public static string Listing(DoraPath path, string? after, int limit) =>
        string.Create(CultureInfo.InvariantCulture, $"l{path.Value}\0{after}\0{limit}");

    /// <summary>The path a key is about.</summary>
    public static ReadOnlySpan<char> PathOf(string key)
    {
        var body = key.AsSpan(1);
        var end = body.IndexOf('\0');
        return end < 0 ? body : body[..end];
    }

    /// <summary>True when the key is about <paramref name="path"/> or, with <paramref name="recursive"/>, below it.</summary>
    public static bool IsAbout(string key, DoraPath path, bool recursive)
    {
        var keyPath = PathOf(key);
        if (keyPath.SequenceEqual(path.Value))
        {
            return true;
        }

        return recursive
            && (path.IsRoot || (keyPath.StartsWith(path.Value, StringComparison.Ordinal) && keyPath.Length > path.Value.Length && keyPath[path.Value.Length] == '/'));
    }
}
