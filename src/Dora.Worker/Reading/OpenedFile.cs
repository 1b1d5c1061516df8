using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Worker.Pages;

namespace Dora.Worker.Reading;

/// <summary>A file whose metadata has been looked up once, for a series of reads of that version.</summary>
public sealed record OpenedFile(DoraPath Path, UfsFileStatus Status, PageSource Source)
{
    public long Length => Status.Length;
}
