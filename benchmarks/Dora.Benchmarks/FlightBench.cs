using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Server;
using Dora.Worker.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dora.Benchmarks;

/// <summary>
/// P2b: Dora's own Flight service streaming a hot file as <c>range</c> batches, against a server built on the packaged
/// <c>FlightServer</c> base class streaming the same batches (same schema, same 3 x 1 MiB rows) from memory. Both are
/// read by the same C# FlightClient loop; rounds alternate and the median of each is reported.
/// </summary>
internal static class FlightBench
{
    private const string FilePath = "/big.bin";

    public static async Task RunAsync(string work, long fileLength, int rounds)
    {
        string root = Path.Combine(work, "flight");
        string ufs = Path.Combine(root, "ufs");
        EngineBench.WriteFile(Path.Combine(ufs, "big.bin"), fileLength);
        Console.WriteLine($"P2b: hot {fileLength >> 20} MiB range DoGet, {rounds} alternating rounds, server and FlightClient in one process on loopback");

        await using LocalCluster cluster = await StreamBench.StartWorkerAsync(root, ufs, fileLength, 256 << 10);
        int doraPort = cluster.Workers[0].FlightPort;
        string ticket = "{\"kind\":\"range\",\"path\":\"" + FilePath + "\"}";
        await ReadAllAsync(doraPort, ticket, fileLength);
        await cluster.Workers[0].Engine.Pages.WhenIdleAsync(CancellationToken.None);

        await using WebApplication packaged = await StartPackagedAsync(fileLength);
        int packagedPort = new Uri(packaged.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        var packagedRuns = new List<double>();
        var doraRuns = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            packagedRuns.Add(await ReadAllAsync(packagedPort, ticket, fileLength));
            doraRuns.Add(await ReadAllAsync(doraPort, ticket, fileLength));
        }

        double baseline = Median(packagedRuns);
        double dora = Median(doraRuns);
        Console.WriteLine();
        Console.WriteLine(Measure.Row("P2b hot range DoGet, C# FlightClient", "MiB/s (median)", "runs", "ratio to packaged"));
        Console.WriteLine(Measure.Row("---", "---:", "---", "---:"));
        Console.WriteLine(Measure.Row("packaged FlightServer, batches from memory (baseline)", F(baseline), string.Join(" ", packagedRuns.Select(F)), "1.00"));
        Console.WriteLine(Measure.Row("Dora Flight service, pages from the cache", F(dora), string.Join(" ", doraRuns.Select(F)), (dora / baseline).ToString("0.00", CultureInfo.InvariantCulture)));
    }

    /// <summary>MiB/s of one DoGet of <paramref name="ticket"/>, counting the bytes of the <c>data</c> column.</summary>
    public static async Task<double> ReadAllAsync(int port, string ticket, long expectedBytes)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var client = new Apache.Arrow.Flight.Client.FlightClient(channel);
        var watch = Stopwatch.StartNew();
        long bytes = 0;
        using var call = client.GetStream(new FlightTicket(Google.Protobuf.ByteString.CopyFromUtf8(ticket)));
        while (await call.ResponseStream.MoveNext(default))
        {
            var data = (BinaryArray)call.ResponseStream.Current.Column(1);
            for (int row = 0; row < data.Length; row++)
            {
                bytes += data.GetBytes(row).Length;
            }
        }

        return bytes == expectedBytes
            ? expectedBytes / (double)(1 << 20) / watch.Elapsed.TotalSeconds
            : throw new InvalidOperationException($"Flight returned {bytes} bytes of {expectedBytes}");
    }

    private static async Task<WebApplication> StartPackagedAsync(long fileLength)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddSingleton(new MemoryBatches(fileLength));
        builder.Services.AddGrpc(grpc => grpc.MaxSendMessageSize = 4 << 20).AddFlightServer<PackagedRangeServer>();
        WebApplication app = builder.Build();
        app.MapFlightEndpoint();
        await app.StartAsync();
        return app;
    }

    /// <summary>The batches the baseline sends: Dora's range layout, 3 rows of 1 MiB each, built once in memory.</summary>
    private sealed class MemoryBatches(long fileLength)
    {
        public const int RowBytes = 1 << 20;

        public long FileLength => fileLength;

        public Schema Schema { get; } = new Schema.Builder()
            .Field(f => f.Name("offset").DataType(Apache.Arrow.Types.Int64Type.Default).Nullable(false))
            .Field(f => f.Name("data").DataType(Apache.Arrow.Types.BinaryType.Default).Nullable(false))
            .Build();

        public byte[] Data { get; } = CreateData();

        private static byte[] CreateData()
        {
            byte[] data = new byte[3 * RowBytes];
            new Random(7).NextBytes(data);
            return data;
        }

        public RecordBatch Batch(long firstOffset, int rows)
        {
            var offsets = new Int64Array.Builder();
            var values = new BinaryArray.Builder();
            for (int row = 0; row < rows; row++)
            {
                offsets.Append(firstOffset + ((long)row * RowBytes));
            }

            var valueOffsets = new ArrowBuffer.Builder<int>(rows + 1);
            for (int row = 0; row <= rows; row++)
            {
                valueOffsets.Append(row * RowBytes);
            }

            var data = new BinaryArray(Apache.Arrow.Types.BinaryType.Default, rows, valueOffsets.Build(), new ArrowBuffer(Data.AsMemory(0, rows * RowBytes)), ArrowBuffer.Empty, 0, 0);
            return new RecordBatch(Schema, [offsets.Build(), data], rows);
        }
    }

    /// <summary>A range server on the packaged base class: the same batches, from memory, through its stream writer.</summary>
    private sealed class PackagedRangeServer(MemoryBatches batches) : FlightServer
    {
        public override async Task DoGet(FlightTicket ticket, FlightServerRecordBatchStreamWriter responseStream, ServerCallContext context)
        {
            await responseStream.SetupStream(batches.Schema);
            for (long offset = 0; offset < batches.FileLength;)
            {
                int rows = (int)Math.Min(3, (batches.FileLength - offset) / MemoryBatches.RowBytes);
                using RecordBatch batch = batches.Batch(offset, rows);
                await responseStream.WriteAsync(batch);
                offset += (long)rows * MemoryBatches.RowBytes;
            }
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string F(double value) => value.ToString("0", CultureInfo.InvariantCulture);
}
