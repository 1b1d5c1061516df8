using System.Globalization;

namespace Dora.Benchmarks;

internal static class Measure
{
    /// <summary>Peak resident set of this process (VmHWM), in MiB.</summary>
    public static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    /// <summary>Asks the kernel to drop clean page-cache pages so that reads hit the disk; false when not allowed.</summary>
    public static bool TryDropPageCache()
    {
        try
        {
            File.WriteAllText("/proc/sys/vm/drop_caches", "3\n");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string Row(params object[] cells) => "| " + string.Join(" | ", cells.Select(c => string.Format(CultureInfo.InvariantCulture, "{0}", c))) + " |";
}
