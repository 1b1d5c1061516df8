using Microsoft.Extensions.Logging;

namespace Dora.Hosting;

/// <summary>
/// The audit trail of refused authentication: one warning naming the face, the peer and why, and at most one every
/// ten seconds per face, the next one counting those left out, so a flood of bad tokens cannot flood the log. The
/// reason never quotes a token.
/// </summary>
public sealed partial class RefusalAudit(ILogger logger, string face, TimeProvider? time = null)
{
    /// <summary>Shortest time between two audit lines of one face.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;
    private long _suppressed;

    /// <summary>Records a refusal of <paramref name="peer"/> (an address) for <paramref name="reason"/> (no token in it).</summary>
    public void Refused(string peer, string reason)
    {
        long suppressed;
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (now < _next)
            {
                _suppressed++;
                return;
            }

            _next = now + Interval;
            suppressed = _suppressed;
            _suppressed = 0;
        }

        Log(logger, face, peer, reason, suppressed);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Face} authentication from {Peer}: {Reason} ({Suppressed} more refused since the last such line)")]
    private static partial void Log(ILogger logger, string face, string peer, string reason, long suppressed);
}
