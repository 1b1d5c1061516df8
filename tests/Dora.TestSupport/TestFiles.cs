namespace Dora.TestSupport;

/// <summary>Deterministic test data: the same seed always gives the same bytes.</summary>
public static class TestFiles
{
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Writes random bytes to <paramref name="path"/> (creating folders) and returns them.</summary>
    public static byte[] Write(string path, int length, int seed)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var bytes = RandomBytes(length, seed);
        File.WriteAllBytes(path, bytes);
        return bytes;
    }

    /// <summary>
    /// Rewrites a file in place with other bytes of the same length and puts its modification time back, as
    /// <c>cp -p</c>, <c>rsync -t</c> or <c>touch -d</c> leave it; returns the new bytes.
    /// </summary>
    public static byte[] RewriteKeepingLengthAndTime(string path, int seed)
    {
        DateTime modified = File.GetLastWriteTimeUtc(path);
        var bytes = RandomBytes((int)new FileInfo(path).Length, seed);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            stream.Write(bytes);
        }

        File.SetLastWriteTimeUtc(path, modified);
        return bytes;
    }
}
