using Microsoft.Extensions.Logging;

namespace Dora.Worker.PageStream;

internal sealed partial class PageStreamSession
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Page stream connection from {Peer} closed: {Code}: {Message}")]
        public static partial void ConnectionRejected(ILogger logger, string peer, string code, string message);

        [LoggerMessage(2, LogLevel.Debug, "Page stream connection from {Peer} closed after being idle")]
        public static partial void IdleClosed(ILogger logger, string peer);

        [LoggerMessage(20, LogLevel.Debug, "Page stream connection from {Peer} closed: no whole HELLO within {Seconds} s")]
        public static partial void HelloTimedOut(ILogger logger, string peer, double seconds);

        [LoggerMessage(3, LogLevel.Error, "Page stream {Request} of '{Path}' failed")]
        public static partial void RequestFailed(ILogger logger, string request, string path, Exception error);

        [LoggerMessage(4, LogLevel.Information, "Page stream connection from {Peer} closed: it did not take a {Bytes}-byte frame within {Seconds} s")]
        public static partial void SlowReader(ILogger logger, string peer, int bytes, double seconds);
    }
}
