using System.CommandLine;
using System.CommandLine.Parsing;

namespace Dora.Cli.CommandLine;

/// <summary>
/// How Dora's commands declare their options (System.CommandLine). Values are read as text and checked by the command
/// (so every error names the option and says what is expected); a value that is itself an option (<c>--token --json</c>)
/// is refused instead of being swallowed.
/// </summary>
internal static class CliOptions
{
    /// <summary>An option that takes one value.</summary>
    public static Option<string?> Value(string name, string valueName, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = valueName };
        option.Validators.Add(NotAnOption);
        return option;
    }

    /// <summary>An option that may be given several times, one value each time.</summary>
    public static Option<string[]> Repeated(string name, string valueName, string description)
    {
        var option = new Option<string[]>(name) { Description = description, HelpName = valueName, Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        option.Validators.Add(NotAnOption);
        return option;
    }

    /// <summary>An option without a value.</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>The path a command works on (<c>dora stat PATH</c>).</summary>
    public static Argument<string> Path(string description) => new("PATH") { Description = description };

    /// <summary>Adds options to a command.</summary>
    public static void AddTo(Command command, params Option[] options)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Option option in options)
        {
            command.Options.Add(option);
        }
    }

    private static void NotAnOption(OptionResult result)
    {
        foreach (Token token in result.Tokens)
        {
            if (token.Value.StartsWith("--", StringComparison.Ordinal) && token.Value.Length > 2)
            {
                result.AddError($"option '{result.Option.Name}' needs a value, not the option '{token.Value}'");
                return;
            }
        }
    }
}
