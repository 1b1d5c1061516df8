namespace Dora.Core.Security;

/// <summary>A certificate, key or CA file that cannot be used; the message names the file and why, never key material.</summary>
public sealed class TlsConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
