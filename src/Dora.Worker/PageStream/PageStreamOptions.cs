using Dora.Core.Protocol;

namespace Dora.Worker.PageStream;

/// <summary>Settings of the page stream endpoint. Every default is stated where it is declared.</summary>
public sealed record PageStreamOptions
{
    /// <summary>TCP port: <see cref="ProtocolConstants.DefaultPort"/> (8816) by default; 0 picks a free port; -1 disables the endpoint.</summary>
    public int Port { get; init; } = ProtocolConstants.DefaultPort;

    /// <summary>
    /// The tokens a client may present in its HELLO (any one of them: several while a new one is rolled out); null (the
    /// default) accepts any client.
    /// </summary>
    public Dora.Core.Security.TokenSet? Tokens { get; init; }

    /// <summary>
    /// TLS for every connection (<c>dora+tls://</c>), with mutual TLS when it names client CAs; null (the default) serves
    /// plaintext. The handshake counts against <see cref="HelloTimeout"/>. Cached pages are then encrypted through a
    /// pooled buffer instead of going out with sendfile.
    /// </summary>
    public Dora.Core.Security.ServerTls? Tls { get; init; }

    /// <summary>
    /// Requests a connection may have in flight: 16 by default. Past it the server stops reading that connection, so
    /// a client that pipelines without limit is slowed by TCP, not buffered.
    /// </summary>
    public int MaxInFlightPerConnection { get; init; } = 16;

    /// <summary>
    /// Connections that said HELLO (with a token, when one is required) served at once: 1024 by default; more are
    /// refused with an error frame.
    /// </summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// How long a new connection has to send its whole HELLO: 5 s by default. A peer that connects and says nothing,
    /// or half a HELLO, is closed then, so it holds a slot for at most this long.
    /// </summary>
    public TimeSpan HelloTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Connections still to complete their HELLO, worker-wide: 256 by default. They have their own slots, apart from
    /// <see cref="MaxConnections"/>, so peers that never authenticate cannot take the slots of those that do; when
    /// all are taken, the oldest is closed for the newcomer.
    /// </summary>
    public int MaxPendingConnections { get; init; } = 256;

    /// <summary>Connections still to complete their HELLO from one address: 32 by default; more from it are closed at once.</summary>
    public int MaxPendingPerAddress { get; init; } = 32;

    /// <summary>
    /// Page buffers all connections may hold at once for misses and unverified pages: 128 by default (128 MiB with
    /// 1 MiB pages). Cache hits are sent with sendfile and need none (without TLS).
    /// </summary>
    public int MaxBufferedPages { get; init; } = 128;

    /// <summary>
    /// Frames of at least this many cached bytes are sent with sendfile (zero-copy); smaller ones are read from the page
    /// file into a pooled buffer and sent with the header in one write, which measured faster for small reads (per-frame
    /// sendfile costs an extra file open, fstat and syscall). 256 KiB by default; <see cref="int.MaxValue"/> never
    /// uses sendfile, 0 always does. See benchmarks/RESULTS.md (P1, P3, P4).
    /// </summary>
    public int SendfileThreshold { get; init; } = 256 << 10;

    /// <summary>A connection with nothing in flight and no frame for this long is closed: 5 minutes by default.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A single frame that cannot be written for this long (the client stopped reading) closes the connection: 60 s.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The slowest a client may take a frame, as Kestrel's minimum response data rate: 64 KiB/s by default, after a grace
    /// of <see cref="MinDataRateGrace"/>. A frame of n bytes that is not taken within grace + n / rate (21 s for 1 MiB,
    /// and never more than <see cref="WriteTimeout"/>) closes the connection, so a reader that stalls gives back the
    /// buffers and slots its frames hold instead of keeping them for the whole write timeout.
    /// </summary>
    public long MinDataRate { get; init; } = 64 << 10;

    /// <summary>Time every frame is allowed before <see cref="MinDataRate"/> counts: 5 s by default.</summary>
    public TimeSpan MinDataRateGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Page buffers one connection may hold at once of the worker's <see cref="MaxBufferedPages"/>: 8 by default, so a
    /// few connections cannot take every buffer (the rest of their requests wait their turn).
    /// </summary>
    public int MaxBufferedPagesPerConnection { get; init; } = 8;

    /// <summary>The clock of the write deadlines (tests pass a fake one). System time by default.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Checks every setting, naming the bad one.</summary>
    public void Validate()
    {
        if (Port is < -1 or > 65535)
        {
            throw new ArgumentException($"PageStreamOptions.Port must be -1 (off), 0 (any) or a port up to 65535 (was {Port}).");
        }

        if (MaxInFlightPerConnection is < 1 or > 4096 || MaxConnections < 1 || MaxBufferedPages < 1 || MaxBufferedPagesPerConnection < 1)
        {
            throw new ArgumentException("PageStreamOptions: MaxInFlightPerConnection (1..4096), MaxConnections, MaxBufferedPages and MaxBufferedPagesPerConnection must be positive.");
        }

        if (MinDataRate < 1 || MinDataRateGrace < TimeSpan.Zero)
        {
            throw new ArgumentException($"PageStreamOptions: MinDataRate must be positive (was {MinDataRate}) and MinDataRateGrace not negative.");
        }

        if (SendfileThreshold < 0)
        {
            throw new ArgumentException($"PageStreamOptions.SendfileThreshold must be 0 or more (was {SendfileThreshold}).");
        }

        if (HelloTimeout <= TimeSpan.Zero || MaxPendingConnections < 1 || MaxPendingPerAddress < 1)
        {
            throw new ArgumentException("PageStreamOptions: HelloTimeout, MaxPendingConnections and MaxPendingPerAddress must be positive.");
        }

        if (IdleTimeout <= TimeSpan.Zero || WriteTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("PageStreamOptions: IdleTimeout and WriteTimeout must be positive.");
        }
    }
}
