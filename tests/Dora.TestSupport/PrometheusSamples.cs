using System.Globalization;
using System.Text.RegularExpressions;

namespace Dora.TestSupport;

/// <summary>Reads Prometheus text (as Dora's /metrics serves it) into name-and-labels -> value.</summary>
public static partial class PrometheusSamples
{
    /// <summary>
    /// Samples keyed like <c>dora_cache_hits_total</c> or <c>dora_metadata_lookups_total{level="ufs"}</c>: the
    /// OpenTelemetry scope label every sample carries is dropped, the other labels kept in order.
    /// </summary>
    public static Dictionary<string, double> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int space = line.LastIndexOf(' ');
            string key = ScopeLabel().Replace(line[..space], string.Empty).Replace("{}", string.Empty, StringComparison.Ordinal);
            samples[key] = double.Parse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    [GeneratedRegex("otel_scope_name=\"[^\"]*\",?")]
    private static partial Regex ScopeLabel();
}
