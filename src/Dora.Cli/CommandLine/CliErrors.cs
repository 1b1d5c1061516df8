using Dora.Core.Errors;

namespace Dora.Cli.CommandLine;

/// <summary>Failures said in the words of the command line: which option to change, what to do.</summary>
internal static class CliErrors
{
    public static string Describe(Exception error) => error switch
    {
        PortInUseException port => $"{port.Message}; choose another with {OptionOf(port.Face)}",
        _ => error.Message,
    };

    private static string OptionOf(string face) => face switch
    {
        PortInUseException.Http => "--http-port",
        PortInUseException.Stream => "--stream-port",
        PortInUseException.Flight => "--flight-port",
        PortInUseException.S3 => "--s3-port",
        _ => "--scheduler-port (dora local) or --port (dora scheduler)",
    };
}
