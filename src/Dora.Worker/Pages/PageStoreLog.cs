using Microsoft.Extensions.Logging;

namespace Dora.Worker.Pages;

internal static partial class PageStoreLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Page store opened: {Pages} pages ({Bytes} bytes) recovered from {Directories} cache directories in {ElapsedMs} ms")]
    public static partial void Opened(ILogger logger, int pages, long bytes, int directories, long elapsedMs);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Cache directory '{Directory}' is unusable; reads go through to the under storage until it recovers")]
    public static partial void DirectoryUnusable(ILogger logger, string directory, Exception error);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Writing a page to '{Directory}' failed; bypassing it for {RetryAfter} and serving reads from the under storage")]
    public static partial void WriteFailed(ILogger logger, string directory, TimeSpan retryAfter, Exception error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Page {Page} in '{Directory}' is corrupt or missing ({Reason}); dropping it and reading it again from the under storage")]
    public static partial void CorruptPage(ILogger logger, PageKey page, string directory, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Page {Page} could not be written to '{Directory}' ({Reason}); it was served and will be read again when next wanted")]
    public static partial void PageWriteLost(ILogger logger, PageKey page, string directory, string reason);

    [LoggerMessage(EventId = 105, Level = LogLevel.Error, Message = "Page {Page} was read but could not be cached (an unexpected error); it was served and will be read again when next wanted")]
    public static partial void StoreFailed(ILogger logger, PageKey page, Exception error);
}
