namespace Dora.Worker.Pages;

/// <summary>
/// The scrubber: every cached page read whole and checked, pass after pass, at a bounded rate. Reads that copy bytes
/// check what they touch, and zero-copy sends check that nothing wrote to a page file; damage below the file system in
/// a page only ever sent zero-copy is what this finds, within one pass.
/// </summary>
public sealed partial class PageStore
{
    /// <summary>Pause between passes over an empty or tiny cache, so the loop never spins.</summary>
    private static readonly TimeSpan IdlePass = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Scrubs until <paramref name="stopping"/> at <see cref="PageStoreOptions.ScrubBytesPerSecond"/>; returns at once
    /// when that is 0.
    /// </summary>
    public async Task RunScrubberAsync(TimeProvider time, CancellationToken stopping)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (_options.ScrubBytesPerSecond == 0)
        {
            return;
        }

        try
        {
            while (true)
            {
                await ScrubAsync(_options.ScrubBytesPerSecond, time, stopping).ConfigureAwait(false);
                await Task.Delay(IdlePass, time, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// One pass over the pages cached now: each is read whole and checked; damaged ones are counted, logged and
    /// dropped (the next read fetches them again). At most <paramref name="bytesPerSecond"/> are read (0: no limit).
    /// </summary>
    /// <returns>The pages checked and the pages found damaged.</returns>
    public async Task<(int Checked, int Damaged)> ScrubAsync(long bytesPerSecond, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        int checkedPages = 0, damaged = 0;
        long owed = 0;
        foreach (var entry in _index.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entry.IsRemoved)
            {
                continue;
            }

            if (CheckWholeNow(entry) == PageCheck.Damaged)
            {
                damaged++;
            }

            checkedPages++;
            _metrics.PageScrubbed(entry.DiskBytes);
            owed += entry.DiskBytes;

            // Paced in slices of a tenth of a second, so the disk sees a steady trickle rather than bursts.
            if (bytesPerSecond > 0 && owed >= bytesPerSecond / 10)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)owed / bytesPerSecond), time, cancellationToken).ConfigureAwait(false);
                owed = 0;
            }
        }

        return (checkedPages, damaged);
    }
}
