namespace Dora.Worker.Pages;

/// <summary>
/// What the page store checks when it serves cached bytes (docs/storage.md, "Integrity"). Whatever the choice, a page
/// is checked whole (header and every block) on its first read after a start-up, by VERIFY and by the scrubber.
/// </summary>
public enum ReadCheck
{
    /// <summary>
    /// The default. Reads that copy bytes (HTTP, Flight, small page-stream frames) check the checksum of every 4 KiB block
    /// they touch. Zero-copy sends, whose bytes never pass through the worker, check the page file's size and change
    /// time against those it had when last checked whole: anything that wrote to the file since is caught (and the page
    /// checked whole again) for the cost of one statx; damage below the file system is the scrubber's to find.
    /// </summary>
    Blocks = 0,

    /// <summary>As <see cref="Blocks"/>, and zero-copy sends also read and check every block they send first.</summary>
    BlocksAlways = 1,

    /// <summary>Nothing is checked on reads after a page's first whole check: the baseline of benchmark P16, not for production.</summary>
    None = 2,
}
