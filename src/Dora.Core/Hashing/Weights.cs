namespace Dora.Core.Hashing;

/// <summary>Weight arithmetic shared by the policies.</summary>
internal static class Weights
{
    /// <summary>Each member's weight divided by the mean weight, so equal weights are all exactly 1.</summary>
    public static double[] RelativeToMean(IReadOnlyList<RingMember> members)
    {
        double sum = 0;
        for (int i = 0; i < members.Count; i++)
        {
            sum += members[i].Weight;
        }

        double mean = sum / members.Count;
        var relative = new double[members.Count];
        for (int i = 0; i < members.Count; i++)
        {
            relative[i] = members[i].Weight / mean;
        }

        return relative;
    }

    /// <summary>True when every member has the same weight, which lets policies skip weighted arithmetic.</summary>
    public static bool AllEqual(IReadOnlyList<RingMember> members)
    {
        for (int i = 1; i < members.Count; i++)
        {
            if (members[i].Weight != members[0].Weight)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Points for a member on a ring with <paramref name="pointsPerUnit"/> points at mean weight: at least one, so a
    /// very light member still owns something.
    /// </summary>
    public static int PointCount(double relativeWeight, int pointsPerUnit) =>
        Math.Max(1, (int)Math.Round(relativeWeight * pointsPerUnit, MidpointRounding.AwayFromZero));
}
