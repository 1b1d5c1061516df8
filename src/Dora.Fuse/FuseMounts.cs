using Dora.Fuse.Kernel;

namespace Dora.Fuse;

/// <summary>Dora mounts as the kernel lists them, and detaching one (for <c>dora umount</c>).</summary>
public static class FuseMounts
{
    /// <summary>True when <c>/proc/self/mounts</c> lists a <c>fuse.dora</c> file system at <paramref name="mountPoint"/>.</summary>
    public static bool IsDoraMount(string mountPoint)
    {
        ArgumentNullException.ThrowIfNull(mountPoint);
        foreach (string line in File.ReadLines("/proc/self/mounts"))
        {
            string[] fields = line.Split(' ');
            // Fields: source, mount point (spaces as \040), type, options...
            if (fields.Length > 2 && fields[2] == "fuse.dora" && fields[1].Replace("\\040", " ", StringComparison.Ordinal) == mountPoint.TrimEnd('/'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Detaches the mount (lazily: files still open keep working until closed).</summary>
    public static bool Unmount(string mountPoint, out string? problem) => FuseDevice.Unmount(mountPoint, out problem);
}
