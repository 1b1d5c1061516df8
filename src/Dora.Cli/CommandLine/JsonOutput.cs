using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dora.Cli.CommandLine;

/// <summary>Indented JSON on standard output for <c>--json</c>, ending with a newline.</summary>
internal static class JsonOutput
{
    public static void Write(Action<Utf8JsonWriter> write)
    {
        using var output = Console.OpenStandardOutput();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }

        output.WriteByte((byte)'\n');
    }
}
