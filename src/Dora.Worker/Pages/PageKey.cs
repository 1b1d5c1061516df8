namespace Dora.Worker.Pages;

/// <summary>One page of one file version: page <see cref="Index"/> covers bytes [Index * pageSize, (Index + 1) * pageSize).</summary>
public readonly record struct PageKey(FileKey File, long Index)
{
    public override string ToString() => $"{File}#{Index}";
}
