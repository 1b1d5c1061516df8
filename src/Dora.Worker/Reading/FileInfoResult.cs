using Dora.Core.Paths;
using Dora.Core.UnderStorage;

namespace Dora.Worker.Reading;

/// <summary>A file's status and how many of its bytes the worker has cached.</summary>
public sealed record FileInfoResult(DoraPath Path, UfsFileStatus Status, long CachedBytes);
