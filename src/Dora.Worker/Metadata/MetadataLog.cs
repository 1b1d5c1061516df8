using Microsoft.Extensions.Logging;

namespace Dora.Worker.Metadata;

internal static partial class MetadataLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "The metadata database in '{Directory}' failed; answering from memory and the under storage (dora_metadata_disk_failures_total counts every failure)")]
    public static partial void DiskFailed(ILogger logger, string directory, Exception error);
}
