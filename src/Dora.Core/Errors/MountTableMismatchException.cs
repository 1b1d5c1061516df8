namespace Dora.Core.Errors;

/// <summary>
/// Two members of a cluster mount different stores (or the same stores at different prefixes or with different
/// consistency): they would read different bytes for the same path, so the newcomer refuses to join.
/// </summary>
public sealed class MountTableMismatchException(string message) : DoraException(message, isTransient: false);
