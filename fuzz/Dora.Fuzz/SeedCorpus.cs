using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Dora.Core.Protocol;
using Dora.Flight;
using Parquet;
using Parquet.Schema;

namespace Dora.Fuzz;

/// <summary>
/// Writes the seed corpus (<c>fuzz/corpus/TARGET/</c>): small valid inputs of every target, made with Dora's own writers
/// and the libraries Dora reads, from which afl-fuzz mutates. Run again only to change the seeds.
/// </summary>
public static class SeedCorpus
{
    public static async Task WriteAsync(string root)
    {
        byte[] buffer = new byte[4096];
        var hello = new PayloadWriter(buffer);
        hello.WriteU16(ProtocolConstants.Version);
        hello.WriteString("token");
        hello.WriteString("seed");
        Write(root, "frame", "hello", buffer[..hello.Finish(FrameType.Hello, FrameBits.None, 1)]);
        var read = new PayloadWriter(buffer);
        read.WriteString("/data/a.parquet");
        read.WriteI64(4096);
        read.WriteI64(1 << 20);
        Write(root, "frame", "read", buffer[..read.Finish(FrameType.Read, FrameBits.None, 2)]);
        read.WriteString("\"0123456789abcdef\"");
        Write(root, "frame", "read-version", buffer[..read.Finish(FrameType.Read, FrameBits.None, 3)]);
        var list = new PayloadWriter(buffer);
        list.WriteString("/data");
        list.WriteString("b");
        list.WriteU32(100);
        Write(root, "frame", "list", buffer[..list.Finish(FrameType.List, FrameBits.None, 4)]);
        var load = new PayloadWriter(buffer);
        load.WriteString("/data/a");
        load.WriteI64(0);
        load.WriteI64(-1);
        load.WriteU8(1);
        Write(root, "frame", "load", buffer[..load.Finish(FrameType.Load, FrameBits.None, 5)]);
        var invalidate = new PayloadWriter(buffer);
        invalidate.WriteString("/data");
        invalidate.WriteU8(1);
        Write(root, "frame", "invalidate", buffer[..invalidate.Finish(FrameType.Invalidate, FrameBits.None, 6)]);
        Write(root, "ticket", "range", """{"kind":"range","path":"/sales/part-0.parquet","offset":0,"length":1048576}"""u8.ToArray());
        Write(root, "ticket", "chunk", """{"kind":"chunk","path":"/p.parquet","rowGroup":0,"column":"fare"}"""u8.ToArray());
        Write(root, "ticket", "batches", new DoraTicket { Kind = "batches", Path = "/p.parquet", RowGroups = [0, 1], Columns = ["fare", "tip"] }.ToJson());
        Write(root, "range", "closed", Range(1000, "bytes=0-99"));
        Write(root, "range", "open", Range(1000, "bytes=500-"));
        Write(root, "range", "suffix", Range(1000, "bytes=-10"));
        Write(root, "range", "several", Range(5000, "bytes=1-2, 4-5"));
        Write(root, "mount", "folder", "/=file:///data"u8.ToArray());
        Write(root, "mount", "bucket", "/lake=s3://bucket/raw?endpoint=http://127.0.0.1:9000&region=us-east-1&consistency=immutable"u8.ToArray());
        Write(root, "mount", "ttl", "/a/b=file:///srv/a?consistency=ttl&ttl=30"u8.ToArray());
        WriteS3Seeds(root);
        foreach (CompressionMethod codec in new[] { CompressionMethod.None, CompressionMethod.Snappy, CompressionMethod.Gzip, CompressionMethod.Zstd })
        {
            Write(root, "parquet", $"small-{codec.ToString().ToLowerInvariant()}", await ParquetAsync(codec));
        }

        Write(root, "arrow", "small", await ArrowAsync());
    }

    /// <summary>Seeds of the S3 gateway's targets: chunked bodies, the two XML bodies, a signed request.</summary>
    private static void WriteS3Seeds(string root)
    {
        // Mode byte 2: unsigned chunks with a CRC32 trailer; then the decoded length, 11, little-endian.
        byte[] unsigned = [2, 11, 0, 0, 0, .. "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"u8];
        Write(root, "s3body", "unsigned-trailer", unsigned);
        byte[] signedChunks = [0, 5, 0, 0, 0, .. Encoding.ASCII.GetBytes($"5;chunk-signature={new string('a', 64)}\r\nhello\r\n0;chunk-signature={new string('b', 64)}\r\n\r\n")];
        Write(root, "s3body", "signed", signedChunks);
        Write(root, "s3body", "plain", [3, 0, 0, 0, 0]);
        Write(root, "s3xml", "delete", "<Delete><Quiet>true</Quiet><Object><Key>a/b.txt</Key></Object><Object><Key>c</Key></Object></Delete>"u8.ToArray());
        Write(root, "s3xml", "complete", "<CompleteMultipartUpload><Part><ETag>\"0a\"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>\"0b\"</ETag></Part></CompleteMultipartUpload>"u8.ToArray());
        Write(root, "sigv4", "header", Encoding.UTF8.GetBytes(
            "GET\n/lake/events/x.parquet\nlist-type=2&prefix=a%2Fb\n"
            + $"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={new string('0', 64)}\n"
            + "host: 127.0.0.1:8814\nx-amz-date: 20261203T010203Z\nx-amz-content-sha256: UNSIGNED-PAYLOAD"));
        Write(root, "sigv4", "presigned", Encoding.UTF8.GetBytes(
            "GET\n/lake/x\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261203T010203Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00\nhost: h"));
    }

    private static void Write(string root, string target, string name, byte[] bytes)
    {
        string folder = Path.Combine(root, target);
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, name), bytes);
    }

    private static byte[] Range(long length, string header) => [.. BitConverter.GetBytes(length), .. Encoding.UTF8.GetBytes(header)];

    private static readonly long[] Ids = [1, 2, 3, 4];
    private static readonly string?[] Names = ["a", null, "a", "b"];
    private static readonly double?[] Fares = [1.5, null, 3.25, -0.0];
    private static readonly bool[] Paid = [true, false, true, true];
    private static readonly DateTime[] Times = [DateTime.UnixEpoch, DateTime.UnixEpoch.AddDays(1), DateTime.UnixEpoch.AddSeconds(1), DateTime.UnixEpoch];

    /// <summary>Two row groups of the common column types, strings repeated so they are dictionary-encoded.</summary>
    private static async Task<byte[]> ParquetAsync(CompressionMethod codec)
    {
        var id = new DataField<long>("id");
        var name = new DataField<string>("name", true);
        var fare = new DataField<double?>("fare");
        var paid = new DataField<bool>("paid");
        var at = new DataField<DateTime>("at");
        using var file = new MemoryStream();
        await using (ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, name, fare, paid, at), file, new ParquetOptions { CompressionMethod = codec }))
        {
            for (int group = 0; group < 2; group++)
            {
                using ParquetRowGroupWriter rowGroup = writer.CreateRowGroup();
                await rowGroup.WriteAsync<long>(id, Ids);
                await rowGroup.WriteAsync(name, Names);
                await rowGroup.WriteAsync<double>(fare, Fares);
                await rowGroup.WriteAsync<bool>(paid, Paid);
                await rowGroup.WriteAsync<DateTime>(at, Times);
            }
        }

        return file.ToArray();
    }

    private static async Task<byte[]> ArrowAsync()
    {
        using RecordBatch batch = new RecordBatch.Builder()
            .Append("id", false, new Int64Array.Builder().AppendRange([1, 2, 3]).Build())
            .Append("name", true, new StringArray.Builder().Append("a").AppendNull().Append("c").Build())
            .Build();
        using var file = new MemoryStream();
        using (var writer = new ArrowFileWriter(file, batch.Schema, leaveOpen: true))
        {
            await writer.WriteRecordBatchAsync(batch);
            await writer.WriteRecordBatchAsync(batch);
            await writer.WriteEndAsync();
        }

        return file.ToArray();
    }
}
