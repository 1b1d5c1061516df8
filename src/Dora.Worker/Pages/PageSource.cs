using Dora.Core.UnderStorage;

namespace Dora.Worker.Pages;

/// <summary>Everything needed to fetch pages of one file version from its under storage.</summary>
/// <param name="File">The page-store key of this file version.</param>
/// <param name="Length">The file's length (part of its fingerprint).</param>
/// <param name="Storage">The under storage holding the file.</param>
/// <param name="RelativePath">The file's path inside <paramref name="Storage"/>.</param>
/// <param name="Fingerprint">The version the pages must come from.</param>
public readonly record struct PageSource(FileKey File, long Length, IUnderStorage Storage, string RelativePath, Fingerprint Fingerprint);
