using System.Text;
using Dora.Core.Mounts;
using Dora.Core.Protocol;
using Dora.Flight;
using Dora.Formats;
using Dora.Worker.Http;
using Dora.Worker.PageStream;

namespace Dora.Fuzz;

/// <summary>
/// Every parser that meets bytes from outside, as a fuzzing target: each takes arbitrary input and may only fail the
/// way its callers expect (the named error a client is told). Anything else escaping a target is a defect: the fuzzer
/// reports it as a crash, and the input goes into <c>fuzz/regressions/TARGET/</c>, which the test suite replays.
/// </summary>
public static class FuzzTargets
{
    /// <summary>
    /// The decode memory a row group may take here; the worker's budget (at least 512 MiB) refuses larger ones before
    /// decoding, and a fuzzing process should not spend more.
    /// </summary>
    private const long DecodeBudgetBytes = 64 << 20;

    /// <summary>The targets by name.</summary>
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["frame"] = Frame,
        ["ticket"] = Ticket,
        ["parquet"] = Parquet,
        ["arrow"] = Arrow,
        ["range"] = Range,
        ["mount"] = Mount,
        ["s3body"] = S3Body,
        ["s3xml"] = S3Xml,
        ["sigv4"] = SigV4,
    };

    /// <summary>A page stream request as a worker reads it: a frame header, then its payload parsed by type.</summary>
    public static void Frame(byte[] input)
    {
        if (input.Length < FrameHeader.Size)
        {
            return;
        }

        FrameHeader? frame = FrameHeader.TryRead(input.AsSpan(0, FrameHeader.Size), ProtocolConstants.MaxRequestPayload, out _, out _);
        if (frame is not { } header || header.PayloadLength > input.Length - FrameHeader.Size)
        {
            return;
        }

        ReadOnlySpan<byte> payload = input.AsSpan(FrameHeader.Size, header.PayloadLength);
        try
        {
            if (header.Type == FrameType.Hello)
            {
                var reader = new PayloadReader(payload);
                _ = reader.ReadU16();
                _ = reader.ReadString();
                _ = reader.ReadString();
                reader.EnsureEnd();
            }
            else if (header.Type is FrameType.Read or FrameType.Stat or FrameType.List or FrameType.Health or FrameType.Load or FrameType.Verify or FrameType.Invalidate or FrameType.Evict)
            {
                _ = Request.Parse(header, payload);
            }
        }
        catch (FormatException)
        {
            // The worker answers BadFrame and closes the connection.
        }
    }

    /// <summary>A Flight ticket.</summary>
    public static void Ticket(byte[] input)
    {
        try
        {
            _ = DoraTicket.Parse(input);
        }
        catch (TicketException)
        {
            // InvalidArgument, naming the problem.
        }
    }

    /// <summary>
    /// A Parquet file as the scheduler's planner and a <c>batches</c> ticket meet it: Dora's checked footer and every
    /// column chunk's range, then every row group decoded by Arrow's Parquet reader in small batches. The decoder is
    /// native code that afl cannot see into; what the target checks is that no input crashes or hangs the process and
    /// every failure is one the worker reports as the file's problem.
    /// </summary>
    public static void Parquet(byte[] input)
    {
        const string path = "/fuzz.parquet";
        try
        {
            ParquetLayout layout = ParquetLayout.ReadAsync(ReaderOf(input), input.Length, path, CancellationToken.None).GetAwaiter().GetResult();
            _ = layout.ChunkRanges(null);
        }
        catch (FileLayoutException)
        {
            // A load job's named per-file failure.
        }

        try
        {
            using var parquet = new Dora.Flight.Columnar.ParquetArrowFile(new MemoryStream(input, writable: false), path, batchRows: 1024);
            var selection = parquet.Columns.Select(null);
            _ = parquet.SchemaOf(selection);
            foreach (int rowGroup in parquet.RowGroups(null))
            {
                if (parquet.UncompressedBytes(rowGroup, null) > DecodeBudgetBytes)
                {
                    continue;
                }

                using Apache.Arrow.Ipc.IArrowArrayStream batches = parquet.Read(rowGroup, selection);
                while (batches.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } batch)
                {
                    batch.Dispose();
                }
            }
        }
        catch (Exception e) when (e is FileLayoutException or TicketException || Dora.Flight.DecodeFailures.IsDamage(e))
        {
            // InvalidArgument naming the file.
        }
    }

    /// <summary>An Arrow IPC file's footer and schema, then every block's message, checked as a batch is before pass-through.</summary>
    public static void Arrow(byte[] input)
    {
        try
        {
            ReadAt read = ReaderOf(input);
            if (!ArrowFileLayout.IsArrowFileAsync(read, input.Length, CancellationToken.None).GetAwaiter().GetResult())
            {
                return;
            }

            ArrowFileLayout layout = ArrowFileLayout.ReadAsync(read, input.Length, "/fuzz.arrow", CancellationToken.None).GetAwaiter().GetResult();
            foreach (ArrowFileLayout.Block block in layout.Dictionaries.Concat(layout.Batches))
            {
                _ = ArrowMessageCheck.Block(input.AsSpan((int)block.Offset, (int)block.Length), block, "/fuzz.arrow");
            }
        }
        catch (FileLayoutException)
        {
            // InvalidArgument, naming the file.
        }
    }

    /// <summary>An HTTP Range header against a file length (the first 8 bytes), which never throws.</summary>
    public static void Range(byte[] input)
    {
        if (input.Length < 8)
        {
            return;
        }

        long length = Math.Abs(BitConverter.ToInt64(input, 0) % (1L << 50));
        string header = Encoding.UTF8.GetString(input, 8, input.Length - 8);
        if (ByteRange.Parse(header, length, out ByteRange range, out _) is ByteRange.Outcome.Partial or ByteRange.Outcome.Whole
            && (range.Start < 0 || range.Length < 0 || range.Start + range.Length > length))
        {
            throw new InvalidOperationException($"Range '{header}' of a {length}-byte file gave {range.Start}+{range.Length}");
        }
    }

    /// <summary>A <c>--mount PREFIX=URI</c> specification.</summary>
    public static void Mount(byte[] input)
    {
        try
        {
            _ = MountSpec.Parse(Encoding.UTF8.GetString(input), ConsistencyMode.Ttl, TimeSpan.FromSeconds(60));
        }
        catch (FormatException)
        {
            // A usage error naming the option.
        }
    }

    /// <summary>
    /// An S3 upload body as the gateway reads it: the first byte picks the payload mode (aws-chunked signed, signed with
    /// a trailer, unsigned with a trailer, or a plain body with a SHA-256 promise), the next four the decoded length.
    /// </summary>
    public static void S3Body(byte[] input)
    {
        if (input.Length < 5)
        {
            return;
        }

        string[] modes = ["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", Dora.S3Gateway.Auth.SigV4.EmptySha256];
        string mode = modes[input[0] % modes.Length];
        long length = BitConverter.ToUInt32(input, 1) % (1 << 20);
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Request.Body = new MemoryStream(input, 5, input.Length - 5, writable: false);
        if (mode.StartsWith("STREAMING-", StringComparison.Ordinal))
        {
            http.Request.Headers["x-amz-decoded-content-length"] = length.ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Request.Headers["x-amz-trailer"] = "x-amz-checksum-crc32";
        }
        else
        {
            http.Request.ContentLength = input.Length - 5;
        }

        // Computed here, not in a static field: instrumented code must not run before the fuzzer has set up its map.
        byte[] signingKey = Dora.S3Gateway.Auth.SigV4.SigningKey("secret", "20261203", "us-east-1", "s3");
        var principal = new Dora.S3Gateway.Auth.S3Principal("key", mode, signingKey, "20261203/us-east-1/s3/aws4_request", "20261203T000000Z", new string('0', 64));
        try
        {
            _ = Dora.S3Gateway.Protocol.RequestPayload.CopyAsync(http, principal, 1 << 20, static (_, _) => ValueTask.CompletedTask, "/b/k").GetAwaiter().GetResult();
        }
        catch (Dora.S3Gateway.Protocol.S3Exception)
        {
            // An S3 error answer (IncompleteBody, SignatureDoesNotMatch, BadDigest, ...).
        }
    }

    /// <summary>The XML bodies of DeleteObjects and CompleteMultipartUpload.</summary>
    public static void S3Xml(byte[] input)
    {
        var resource = new Dora.S3Gateway.Protocol.S3Resource("b", "k");
        try
        {
            _ = Dora.S3Gateway.Operations.DeleteObjects.ParseAsync(new MemoryStream(input, writable: false), resource).GetAwaiter().GetResult();
        }
        catch (Dora.S3Gateway.Protocol.S3Exception)
        {
            // MalformedXML.
        }

        try
        {
            _ = Dora.S3Gateway.Operations.MultipartUploads.ParseCompletionAsync(new MemoryStream(input, writable: false), resource).GetAwaiter().GetResult();
        }
        catch (Dora.S3Gateway.Protocol.S3Exception)
        {
            // MalformedXML.
        }
    }

    /// <summary>
    /// A request's authentication as the gateway checks it: the input is split at newlines into the method, the raw path,
    /// the raw query, then <c>name: value</c> header lines (Authorization, x-amz-date, x-amz-content-sha256, ...).
    /// </summary>
    public static void SigV4(byte[] input)
    {
        string[] lines = Encoding.UTF8.GetString(input).Split('\n');
        if (lines.Length < 3)
        {
            return;
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in lines.Skip(3))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        var authentication = new Dora.S3Gateway.Auth.S3Authentication(Dora.S3Gateway.Auth.S3KeyPairs.Of(("AKIDEXAMPLE", "secret")), allowAnonymous: false, TimeProvider.System);
        try
        {
            _ = authentication.Authenticate(lines[0], lines[1], lines[2], name => headers.GetValueOrDefault(name));
        }
        catch (Dora.S3Gateway.Protocol.S3Exception)
        {
            // AccessDenied, SignatureDoesNotMatch, AuthorizationHeaderMalformed, ...
        }
    }

    /// <summary>Reads of a byte array; a read outside it means a parser computed a range it should have refused.</summary>
    private static ReadAt ReaderOf(byte[] bytes) => (offset, destination, _) =>
    {
        if (offset < 0 || offset > bytes.Length || destination.Length > bytes.Length - offset)
        {
            throw new InvalidOperationException($"a parser read {destination.Length} bytes at {offset} of a {bytes.Length}-byte file");
        }

        bytes.AsMemory((int)offset, destination.Length).CopyTo(destination);
        return ValueTask.CompletedTask;
    };
}
