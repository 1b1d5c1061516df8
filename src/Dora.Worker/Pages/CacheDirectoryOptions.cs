namespace Dora.Worker.Pages;

/// <summary>One folder that holds page files, and how many bytes of pages it may hold.</summary>
/// <param name="Path">The folder; created when missing.</param>
/// <param name="QuotaBytes">Upper bound of page bytes (headers included) kept in it.</param>
public sealed record CacheDirectoryOptions(string Path, long QuotaBytes);
