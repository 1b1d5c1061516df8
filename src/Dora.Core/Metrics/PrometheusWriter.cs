using System.Globalization;
using System.Text;

namespace Dora.Core.Metrics;

/// <summary>Writes metric families in the Prometheus text exposition format (version 0.0.4), for /metrics endpoints.</summary>
public sealed class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new(2048);

    public PrometheusWriter Counter(string name, string help, long value) => Family(name, help, "counter", value);

    public PrometheusWriter Gauge(string name, string help, long value) => Family(name, help, "gauge", value);

    /// <summary>The HELP and TYPE lines of a family whose samples (with labels) follow through <see cref="Sample"/>.</summary>
    public PrometheusWriter Header(string name, string help, string type)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    public PrometheusWriter Sample(string series, long value)
    {
        _text.Append(series).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return this;
    }

    private PrometheusWriter Family(string name, string help, string type, long value) => Header(name, help, type).Sample(name, value);

    public override string ToString() => _text.ToString();
}
