using System.Runtime.InteropServices;

namespace Dora.Fuse;

/// <summary>Who runs this process: the default owner of the files a mount shows.</summary>
public static partial class ProcessIdentity
{
    public static uint UserId => GetUid();

    public static uint GroupId => GetGid();

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    private static partial uint GetGid();
}
