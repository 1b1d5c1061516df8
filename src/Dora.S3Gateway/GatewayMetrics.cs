using System.Diagnostics.Metrics;

namespace Dora.S3Gateway;

/// <summary>
/// The gateway's instruments on the worker's meter (served on the worker's <c>/metrics</c>): requests and errors by
/// operation (errors also by S3 code), bytes sent and received, and the latency of each operation.
/// </summary>
internal sealed class GatewayMetrics
{
    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _bytesReceived;
    private readonly Histogram<double> _duration;

    public GatewayMetrics(Meter meter)
    {
        _requests = meter.CreateCounter<long>("dora.s3.requests", description: "S3 gateway requests, by operation.");
        _errors = meter.CreateCounter<long>("dora.s3.errors", description: "S3 gateway requests answered with an error, by operation and S3 error code.");
        _bytesSent = meter.CreateCounter<long>("dora.s3.sent", "By", "Object bytes sent by the S3 gateway.");
        _bytesReceived = meter.CreateCounter<long>("dora.s3.received", "By", "Object bytes received by the S3 gateway.");
        _duration = meter.CreateHistogram("dora.s3.request.duration", "s", "Time to answer an S3 request, by operation.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = Dora.Hosting.MetricsEndpoint.DurationBuckets });
    }

    public void Finished(string operation, TimeSpan elapsed, string? errorCode)
    {
        var tag = new KeyValuePair<string, object?>("operation", operation);
        _requests.Add(1, tag);
        _duration.Record(elapsed.TotalSeconds, tag);
        if (errorCode is not null)
        {
            _errors.Add(1, tag, new KeyValuePair<string, object?>("code", errorCode));
        }
    }

    public void BytesSent(long bytes) => _bytesSent.Add(bytes);

    public void BytesReceived(long bytes) => _bytesReceived.Add(bytes);
}
