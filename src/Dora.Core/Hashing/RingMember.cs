namespace Dora.Core.Hashing;

/// <summary>
/// One worker as the placement policies see it: its stable id (the only thing hashed) and a relative capacity weight.
/// </summary>
/// <param name="Id">The worker id; placement depends on it alone, never on addresses or ports.</param>
/// <param name="Weight">
/// Relative capacity, 1 by default. Only ratios matter: a worker of weight 2 receives about twice the keys of a worker
/// of weight 1.
/// </param>
public readonly record struct RingMember(string Id, double Weight = 1.0)
{
    /// <summary>Checks the id and weight, naming the offending value.</summary>
    internal void Validate()
    {
        if (string.IsNullOrEmpty(Id))
        {
            throw new ArgumentException("A ring member needs a non-empty id.");
        }

        if (!double.IsFinite(Weight) || Weight <= 0)
        {
            throw new ArgumentException($"Worker '{Id}' has weight {Weight}; weights must be finite and greater than 0.");
        }
    }
}
