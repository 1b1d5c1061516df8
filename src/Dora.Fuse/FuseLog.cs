using Microsoft.Extensions.Logging;

namespace Dora.Fuse;

internal static partial class FuseLog
{
    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "{Opcode} of {Path} failed, answered EIO: {Reason}")]
    public static partial void RequestFailed(ILogger logger, string opcode, string path, string reason);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Inode {Inode} changed while open, answered ESTALE (open it again to read the new version): {Reason}")]
    public static partial void FileChanged(ILogger logger, ulong inode, string reason);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "The kernel speaks FUSE {Major}.{Minor}; dora mount needs 7.23 or later")]
    public static partial void UnsupportedKernel(ILogger logger, uint major, uint minor);

    [LoggerMessage(EventId = 604, Level = LogLevel.Warning, Message = "Replies from local page files are copied, not spliced: {Reason}")]
    public static partial void NoSplice(ILogger logger, string reason);

    [LoggerMessage(EventId = 603, Level = LogLevel.Error, Message = "/dev/fuse failed, the file system stops: {Reason}")]
    public static partial void DeviceFailed(ILogger logger, string reason);
}
