using System.Collections.Concurrent;
using Dora.Worker.Pages;

namespace Dora.Worker.Reading;

/// <summary>
/// Remembers where the last read of each file ended, so that a read starting there is recognised as sequential.
/// Bounded: the table is cleared when it reaches its size, which costs at most one missed read-ahead per file.
/// </summary>
internal sealed class SequentialReadDetector
{
    private readonly ConcurrentDictionary<FileKey, long> _lastEnds = new();
    private readonly int _maxFiles;

    public SequentialReadDetector(int maxFiles)
    {
        _maxFiles = maxFiles;
    }

    /// <summary>Records a read and returns true when it continues the previous read of the same file.</summary>
    public bool Record(FileKey file, long offset, long count)
    {
        var sequential = offset > 0 && _lastEnds.TryGetValue(file, out var lastEnd) && lastEnd == offset;
        if (_lastEnds.Count >= _maxFiles)
        {
            _lastEnds.Clear();
        }

        _lastEnds[file] = offset + count;
        return sequential;
    }
}
