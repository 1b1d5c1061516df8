using System.Diagnostics;
using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Flight;

namespace Dora.Benchmarks;

/// <summary>
/// The client side of the Flight decode benchmark (benchmarks/flight-decode.sh): reads every <c>batches</c> endpoint of
/// a Parquet file from a running worker, one after the other, and prints rows/s and MB/s of Arrow data received. The
/// script runs it against a worker of this build and one of the build before the Parquet reader changed.
/// </summary>
internal static class DecodeBench
{
    public static async Task RunAsync(string flightUri, string path, int rounds)
    {
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(flightUri.Replace("grpc+tcp://", "http://", StringComparison.Ordinal));
        var client = new Apache.Arrow.Flight.Client.FlightClient(channel);
        FlightInfo info = await client.GetInfo(FlightDescriptor.CreatePathDescriptor(path)).ResponseAsync;
        var passes = new List<(double Seconds, long Rows, long Bytes)>();
        for (int round = 0; round <= rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            long rows = 0;
            long bytes = 0;
            foreach (FlightEndpoint endpoint in info.Endpoints)
            {
                using var call = client.GetStream(endpoint.Ticket);
                while (await call.ResponseStream.MoveNext(default))
                {
                    RecordBatch batch = call.ResponseStream.Current;
                    rows += batch.Length;
                    bytes += batch.Arrays.Sum(a => BufferBytes(a.Data));
                }
            }

            if (rows != info.TotalRecords)
            {
                throw new InvalidOperationException($"read {rows} rows of {info.TotalRecords}");
            }

            // Round 0 warms the cache (and the JIT); the others are measured.
            if (round > 0)
            {
                passes.Add((watch.Elapsed.TotalSeconds, rows, bytes));
            }
        }

        var median = passes.OrderBy(p => p.Seconds).ElementAt(passes.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rows={median.Rows} arrowBytes={median.Bytes} seconds={median.Seconds:0.000} rowsPerSecond={median.Rows / median.Seconds:0} arrowMBps={median.Bytes / 1e6 / median.Seconds:0.0} passes={string.Join(' ', passes.Select(p => p.Seconds.ToString("0.000", CultureInfo.InvariantCulture)))}"));
    }

    private static long BufferBytes(ArrayData data) =>
        data.Buffers.Sum(b => (long)b.Length) + (data.Children ?? []).Sum(BufferBytes) + (data.Dictionary is { } d ? BufferBytes(d) : 0);
}
