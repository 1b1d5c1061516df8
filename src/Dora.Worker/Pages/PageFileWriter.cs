using System.Buffers;
using Dora.Core.Native;
using Microsoft.Win32.SafeHandles;

namespace Dora.Worker.Pages;

/// <summary>Writes page files (<see cref="PageFileFormat"/>): under a temporary name, then renamed into place.</summary>
internal static class PageFileWriter
{
    /// <summary>
    /// Writes the page and returns the change time (ns) of the file in place, which later reads compare with the file's
    /// to notice anything that changed it since.
    /// </summary>
    /// <exception cref="IOException">The write failed (full disk, I/O error, the folder vanished).</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be written.</exception>
    public static long Write(string path, int dataOffset, long pageIndex, ReadOnlySpan<byte> data)
    {
        string temporary = path + PageFileFormat.TemporaryExtension;
        byte[] header = ArrayPool<byte>.Shared.Rent(dataOffset);
        try
        {
            PageFileFormat.WriteHeader(header.AsSpan(0, dataOffset), pageIndex, data);
            using (SafeFileHandle handle = Create(temporary, path))
            {
                RandomAccess.Write(handle, header.AsSpan(0, dataOffset), 0);
                RandomAccess.Write(handle, data, dataOffset);
            }

            // The rename is what makes the page visible: a crash before it leaves only a .tmp file, which the next
            // start-up deletes; a crash after it may leave a page the checksums reject on its first read.
            File.Move(temporary, path);
            return PosixFiles.Stat(path).ChangedNs;
        }
        catch
        {
            CacheDirectory.TryDelete(temporary);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    private static SafeFileHandle Create(string temporary, string path)
    {
        try
        {
            return File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write);
        }
        catch (DirectoryNotFoundException)
        {
            // Bucket folders are made on first use (and again if something removed one).
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write);
        }
    }
}
