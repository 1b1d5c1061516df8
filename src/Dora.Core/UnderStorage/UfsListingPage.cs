namespace Dora.Core.UnderStorage;

/// <summary>One page of a directory listing, ordered by name (ordinal).</summary>
/// <param name="Entries">At most the requested number of entries.</param>
/// <param name="NextToken">Pass it as <c>after</c> to get the next page; null when this is the last page.</param>
public sealed record UfsListingPage(IReadOnlyList<UfsFileStatus> Entries, string? NextToken);
