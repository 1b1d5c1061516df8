using Microsoft.Extensions.Logging;

namespace Dora.Flight;

/// <summary>The Flight service's log messages.</summary>
internal static partial class FlightLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Flight {Method} failed inside the worker")]
    public static partial void CallFailed(ILogger logger, string method, Exception error);
}
