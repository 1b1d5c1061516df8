using System.Text;
using Dora.Core.Errors;

namespace Dora.Core.Paths;

/// <summary>
/// An absolute, normalised Dora path such as <c>/sales/2024/part-0.parquet</c>. Paths are checked once, at the edge
/// (<see cref="Parse"/>); everything inside Dora can then trust them. Nothing is ever resolved: <c>..</c>, <c>.</c>,
/// empty segments, NUL, control characters and backslashes are rejected, so a path can never climb out of its mount.
/// </summary>
public readonly record struct DoraPath
{
    /// <summary>Longest accepted path in UTF-8 bytes, as PATH_MAX on Linux.</summary>
    public const int MaxUtf8Length = 4096;

    /// <summary>Longest accepted segment in UTF-8 bytes, as NAME_MAX on Linux and S3's key limits allow.</summary>
    public const int MaxSegmentUtf8Length = 255;

    public static readonly DoraPath Root = new("/");

    private DoraPath(string value)
    {
        Value = value;
    }

    /// <summary>The normalised text: starts with '/', no trailing '/' except for the root.</summary>
    public string Value { get; }

    public bool IsRoot => Value.Length == 1;

    /// <summary>The last segment; empty for the root.</summary>
    public string Name => IsRoot ? string.Empty : Value[(Value.LastIndexOf('/') + 1)..];

    /// <summary>The parent path; the root's parent is the root.</summary>
    public DoraPath Parent
    {
        get
        {
            var slash = Value.LastIndexOf('/');
            return slash <= 0 ? Root : new DoraPath(Value[..slash]);
        }
    }

    /// <summary>Parses and validates a user-supplied path. One trailing '/' is accepted and dropped.</summary>
    /// <exception cref="InvalidPathException">The path is malformed; the message names the path and the reason.</exception>
    public static DoraPath Parse(string? text)
    {
        if (!TryParse(text, out var path, out var reason))
        {
            throw new InvalidPathException(text ?? string.Empty, reason);
        }

        return path;
    }

    public static bool TryParse(string? text, out DoraPath path, out string reason)
    {
        path = default;
        if (string.IsNullOrEmpty(text))
        {
            reason = "the path is empty";
            return false;
        }

        if (text[0] != '/')
        {
            reason = "the path must be absolute and start with '/'";
            return false;
        }

        if (Encoding.UTF8.GetByteCount(text) > MaxUtf8Length)
        {
            reason = $"the path is longer than {MaxUtf8Length} bytes";
            return false;
        }

        if (text.Length == 1)
        {
            path = Root;
            reason = string.Empty;
            return true;
        }

        var body = text[^1] == '/' ? text[1..^1] : text[1..];
        var start = 0;
        while (true)
        {
            var end = body.IndexOf('/', start);
            var segment = end < 0 ? body.AsSpan(start) : body.AsSpan(start, end - start);
            if (!IsValidSegment(segment, out reason))
            {
                return false;
            }

            if (end < 0)
            {
                break;
            }

            start = end + 1;
        }

        path = new DoraPath("/" + body);
        reason = string.Empty;
        return true;
    }

    /// <summary>Appends one child segment, validating it.</summary>
    public DoraPath Combine(string childName)
    {
        if (!IsValidSegment(childName, out var reason))
        {
            throw new InvalidPathException(IsRoot ? "/" + childName : Value + "/" + childName, reason);
        }

        return new DoraPath(IsRoot ? "/" + childName : Value + "/" + childName);
    }

    /// <summary>True when this path equals <paramref name="prefix"/> or lies below it.</summary>
    public bool IsUnder(DoraPath prefix) =>
        prefix.IsRoot
        || Value == prefix.Value
        || (Value.StartsWith(prefix.Value, StringComparison.Ordinal) && Value[prefix.Value.Length] == '/');

    /// <summary>The part of this path below <paramref name="prefix"/>, without a leading '/'; empty when equal.</summary>
    public string RelativeTo(DoraPath prefix)
    {
        if (!IsUnder(prefix))
        {
            throw new ArgumentException($"'{Value}' is not under '{prefix.Value}'.", nameof(prefix));
        }

        return prefix.IsRoot ? Value[1..] : Value.Length == prefix.Value.Length ? string.Empty : Value[(prefix.Value.Length + 1)..];
    }

    public override string ToString() => Value ?? "/";

    private static bool IsValidSegment(ReadOnlySpan<char> segment, out string reason)
    {
        if (segment.IsEmpty)
        {
            reason = "empty path segments ('//') are not allowed";
            return false;
        }

        if (segment is "." || segment is "..")
        {
            reason = $"'{segment}' segments are not allowed";
            return false;
        }

        foreach (var c in segment)
        {
            if (c == '\0')
            {
                reason = "NUL characters are not allowed";
                return false;
            }

            if (c == '\\')
            {
                reason = "backslashes are not allowed";
                return false;
            }

            if (c == '/')
            {
                reason = "a segment cannot contain '/'";
                return false;
            }

            if (char.IsControl(c))
            {
                reason = "control characters are not allowed";
                return false;
            }
        }

        if (Encoding.UTF8.GetByteCount(segment) > MaxSegmentUtf8Length)
        {
            reason = $"a segment is longer than {MaxSegmentUtf8Length} bytes";
            return false;
        }

        reason = string.Empty;
        return true;
    }
}
