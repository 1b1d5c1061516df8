namespace Dora.Formats;

/// <summary>
/// Fills <paramref name="destination"/> with the file's bytes from <paramref name="offset"/>, or throws
/// (an <see cref="IOException"/> when the file is shorter). Layout readers fetch only what they parse through it, so a
/// footer read costs the footer's pages, whether the bytes come from a worker's cache or over the network.
/// </summary>
public delegate ValueTask ReadAt(long offset, Memory<byte> destination, CancellationToken cancellationToken);
