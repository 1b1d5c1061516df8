namespace Dora.Fuse;

/// <summary>What a mount served so far.</summary>
/// <param name="Requests">Requests of every kind read from <c>/dev/fuse</c>.</param>
/// <param name="Reads">READ requests (reads the kernel's page cache could not answer).</param>
/// <param name="Bytes">File bytes returned in READ replies.</param>
/// <param name="ReadAroundBytes">Bytes handed to the kernel's page cache around small reads.</param>
/// <param name="LocalBytes">Bytes read straight from the page files of owners on this host.</param>
/// <param name="SplicedBytes">Bytes of READ replies spliced from page files into <c>/dev/fuse</c> (copied once, by the kernel).</param>
/// <param name="Inodes">Inodes the kernel holds now.</param>
public readonly record struct FuseCounters(long Requests, long Reads, long Bytes, long ReadAroundBytes, long LocalBytes, long SplicedBytes, int Inodes);
