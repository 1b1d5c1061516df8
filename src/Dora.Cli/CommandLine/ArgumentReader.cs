using Dora.Core.Units;

namespace Dora.Cli.CommandLine;

/// <summary>
/// Reads <c>--name value</c> and <c>--flag</c> options of one command. Unknown options, missing values and
/// malformed numbers are errors that name the option, so a typo never silently falls back to a default.
/// </summary>
internal sealed class ArgumentReader
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<string>> _repeated = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public ArgumentReader(IReadOnlyList<string> arguments, IReadOnlySet<string> flags)
    {
        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (!argument.StartsWith("--", StringComparison.Ordinal) || argument.Length == 2)
            {
                throw new UsageException($"unexpected argument '{argument}'");
            }

            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? argument[..equals] : argument;
            string? value;
            if (flags.Contains(name))
            {
                value = equals > 0 ? argument[(equals + 1)..] : "true";
            }
            else if (equals > 0)
            {
                value = argument[(equals + 1)..];
            }
            else if (i + 1 < arguments.Count)
            {
                value = arguments[++i];
            }
            else
            {
                throw new UsageException($"option '{name}' needs a value");
            }

            if (!_options.TryAdd(name, value))
            {
                // Kept for options that may repeat (Strings); String refuses a repeated option.
                if (!_repeated.TryGetValue(name, out List<string>? all))
                {
                    all = [_options[name]!];
                    _repeated[name] = all;
                }

                all.Add(value!);
            }
        }
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _repeated.ContainsKey(name)
            ? throw new UsageException($"option '{name}' is given more than once")
            : _options.GetValueOrDefault(name);
    }

    /// <summary>Every value of an option that may be given several times, in order.</summary>
    public IReadOnlyList<string> Strings(string name)
    {
        _read.Add(name);
        return _repeated.TryGetValue(name, out List<string>? all) ? all : _options.TryGetValue(name, out string? one) && one is not null ? [one] : [];
    }

    public bool Flag(string name) => String(name) is { } value && value != "false";

    public int Int(string name, int fallback, int min, int max)
    {
        var text = String(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
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

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
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

    /// <summary>Fails on any option the command did not ask for.</summary>
    public void EnsureAllRead()
    {
        foreach (var name in _options.Keys)
        {
            if (!_read.Contains(name))
            {
                throw new UsageException($"unknown option '{name}'");
            }
        }
    }
}
