using System.Diagnostics;

namespace Dora.Worker.Pages;

/// <summary>Start-up: directory locks, then the index rebuilt from the page files an earlier run left.</summary>
public sealed partial class PageStore
{
    // Every directory is locked before any is read or changed, so a second worker on a live directory fails without
    // deleting or adopting a page of it. A directory that cannot even be created is left unlocked and bypassed until
    // the worker restarts.
    private void LockDirectories()
    {
        for (var i = 0; i < _directories.Length; i++)
        {
            try
            {
                _locks[i] = CacheDirectoryLock.Acquire(_directories[i].Root);
            }
            catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && e is not CacheDirectoryInUseException))
            {
                _directories[i].MarkDegraded(Timeout.InfiniteTimeSpan, $"unusable at start-up ({e.Message}); restart the worker once it is fixed");
                PageStoreLog.DirectoryUnusable(_logger, _directories[i].Root, e);
            }
        }
    }

    private void Recover()
    {
        var clock = Stopwatch.StartNew();
        var recovered = 0;
        long bytes = 0;
        for (var i = 0; i < _directories.Length; i++)
        {
            var directory = _directories[i];
            if (_locks[i] is null)
            {
                continue;
            }

            try
            {
                directory.Prepare();
                foreach (var page in directory.Scan())
                {
                    var entry = new PageEntry(page.Key, directory, page.Generation, page.Length);
                    if (_index.TryAdd(page.Key, entry))
                    {
                        directory.AddRecovered(entry);
                        recovered++;
                        bytes += entry.DiskBytes;
                    }
                    else
                    {
                        // The same page in two directories (directories were reordered): keep one.
                        DeletePageFile(entry);
                    }
                }

                EnforceQuota(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                directory.MarkDegraded(Timeout.InfiniteTimeSpan, $"unusable at start-up ({e.Message}); restart the worker once it is fixed");
                PageStoreLog.DirectoryUnusable(_logger, directory.Root, e);
            }
        }

        PageStoreLog.Opened(_logger, recovered, bytes, _directories.Length, clock.ElapsedMilliseconds);
    }

    // A quota lowered since the last run is honoured at once.
    private void EnforceQuota(CacheDirectory directory)
    {
        if (directory.UsedBytes <= directory.QuotaBytes)
        {
            return;
        }

        var victims = new List<PageEntry>();
        directory.TryReserve(0, victims);
        DiscardEvicted(victims);
    }
}
