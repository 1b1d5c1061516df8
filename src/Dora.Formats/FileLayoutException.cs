namespace Dora.Formats;

/// <summary>A file is not of the format asked for, or its footer is damaged; the message names the file and the problem.</summary>
public sealed class FileLayoutException(string message) : Exception(message);
