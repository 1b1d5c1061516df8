using System.CommandLine;
using System.Globalization;
using Dora.Core.Units;

namespace Dora.Cli.CommandLine;

/// <summary>
/// The options of one parsed command line (System.CommandLine has checked names, counts and that no option swallowed
/// another), read as the command needs them: numbers and sizes are checked here, so every error names the option.
/// </summary>
internal sealed class ArgumentReader(ParseResult result)
{
    /// <summary>The command's PATH argument.</summary>
    public string Path => result.GetValue<string>("PATH") ?? throw new UsageException("a path is required");

    /// <summary>The paths of a command that takes several.</summary>
    public string[] Paths => result.GetValue<string[]>("PATH") is { Length: > 0 } paths ? paths : throw new UsageException("a path is required");

    /// <summary>An optional argument of the command, or null.</summary>
    public string? Argument(string name) => result.GetValue<string?>(name);

    public string? String(string name) => result.GetValue<string?>(name);

    /// <summary>Every value of an option that may be given several times, in order.</summary>
    public IReadOnlyList<string> Strings(string name) => result.GetValue<string[]>(name) ?? [];

    public bool Flag(string name) => result.GetValue<bool>(name);

    public int Int(string name, int fallback, int min, int max)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new UsageException($"option '{name}' must be a whole number from {min} to {max} (was '{text}')");
        }

        return value;
    }

    public long Long(string name, long fallback)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new UsageException($"option '{name}' must be a whole number of 0 or more (was '{text}')");
    }

    public long Bytes(string name, long fallback)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }

        return ByteSize.TryParse(text, out var value) && value > 0
            ? value
            : throw new UsageException($"option '{name}' must be a positive byte size such as 512MiB or 10GiB (was '{text}')");
    }
}
