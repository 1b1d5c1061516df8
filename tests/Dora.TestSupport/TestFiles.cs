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
}
