using System.Text.RegularExpressions;
using Dora.Core.Paths;
using Dora.Scheduler.Jobs;

namespace Dora.Scheduler.Planning;

/// <summary>Which files a load job takes: its path pattern, then its glob or regex filter.</summary>
internal sealed class FileFilter
{
    private readonly PathPattern _path;
    private readonly Regex? _glob;
    private readonly bool _globOnName;
    private readonly Regex? _regex;

    public FileFilter(LoadJobSpec spec)
    {
        _path = PathPattern.Parse(spec.Path);
        if (spec.Filter is { } filter)
        {
            _globOnName = !filter.Contains('/', StringComparison.Ordinal);
            _glob = Glob.Compile(filter.TrimStart('/'));
        }

        if (spec.FilterRegex is { } regex)
        {
            _regex = new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The directory (or file) the job walks.</summary>
    public DoraPath Root => _path.Root;

    /// <summary>True when the file at <paramref name="path"/> is part of the job.</summary>
    public bool Matches(DoraPath path)
    {
        if (_path.Pattern is { } pattern && !pattern.IsMatch(path.Value))
        {
            return false;
        }

        if (_glob is not null)
        {
            string subject = _globOnName ? path.Name : Relative(path);
            if (!_glob.IsMatch(subject))
            {
                return false;
            }
        }

        return _regex is null || _regex.IsMatch(path.Value);
    }

    private string Relative(DoraPath path) =>
        Root.IsRoot ? path.Value[1..] : path.Value.Length > Root.Value.Length ? path.Value[(Root.Value.Length + 1)..] : path.Name;
}
