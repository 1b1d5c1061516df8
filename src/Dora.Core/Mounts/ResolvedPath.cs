using Dora.Core.Paths;

namespace Dora.Core.Mounts;

/// <summary>A Dora path with the mount it falls under and its path relative to that mount's storage root.</summary>
public readonly record struct ResolvedPath(DoraPath Path, Mount Mount, string RelativePath);
