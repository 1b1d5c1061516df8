namespace Dora.Fuse.Kernel;

/// <summary>Linux errno values a FUSE reply carries (negated in <c>fuse_out_header.error</c>).</summary>
internal static class Errno
{
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENOSYS = 38;
    public const int ENODATA = 61;
    public const int ENOTSUP = 95;
    public const int ESTALE = 116;
    public const int ENODEV = 19;
}
