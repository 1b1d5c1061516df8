using Microsoft.Extensions.Logging;

namespace Dora.Cli.CommandLine;

/// <summary>How every long-running command logs: one line per message, each with its UTC time to the millisecond.</summary>
internal static class ConsoleLogging
{
    public static ILoggingBuilder Configure(ILoggingBuilder logging, LogLevel minimum) =>
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        }).SetMinimumLevel(minimum);
}
