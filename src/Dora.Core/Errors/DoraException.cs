namespace Dora.Core.Errors;

/// <summary>
/// Base of every error Dora raises on purpose. <see cref="IsTransient"/> tells callers whether trying again
/// (later, or on another worker) can succeed; permanent errors are reported to the user as they are.
/// </summary>
public class DoraException : Exception
{
    public DoraException(string message, bool isTransient = false, Exception? inner = null)
        : base(message, inner)
    {
        IsTransient = isTransient;
    }

    /// <summary>True when the same request may succeed if repeated.</summary>
    public bool IsTransient { get; }
}
