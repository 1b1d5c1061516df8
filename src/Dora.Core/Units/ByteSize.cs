using System.Globalization;

namespace Dora.Core.Units;

/// <summary>Parses and prints byte sizes such as <c>10GiB</c>, <c>512MiB</c>, <c>64k</c> or <c>1048576</c>.</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Suffixes =
    [
        ("tib", 1L << 40), ("gib", 1L << 30), ("mib", 1L << 20), ("kib", 1L << 10),
        ("tb", 1_000_000_000_000L), ("gb", 1_000_000_000L), ("mb", 1_000_000L), ("kb", 1_000L),
        ("t", 1L << 40), ("g", 1L << 30), ("m", 1L << 20), ("k", 1L << 10), ("b", 1L),
    ];

    /// <summary>Parses a size; binary suffixes (KiB, MiB, GiB, TiB, and K/M/G/T alone) are powers of 1024.</summary>
    /// <exception cref="FormatException">The text is not a non-negative size; the message quotes it.</exception>
    public static long Parse(string text)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }

        throw new FormatException($"'{text}' is not a byte size (examples: 1048576, 64KiB, 512MiB, 10GiB).");
    }

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim().ToLowerInvariant();
        long factor = 1;
        foreach (var (suffix, f) in Suffixes)
        {
            if (trimmed.EndsWith(suffix, StringComparison.Ordinal))
            {
                factor = f;
                trimmed = trimmed[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            return false;
        }

        var result = number * factor;
        if (result > long.MaxValue || result != decimal.Truncate(result))
        {
            return false;
        }

        bytes = (long)result;
        return true;
    }

    /// <summary>A short human form: 1.5 GiB, 64 KiB, 12 B.</summary>
    public static string Format(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
