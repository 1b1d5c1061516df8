using System.Collections.Concurrent;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Dora.Registry.IntegrationTests;

/// <summary>Raw etcd access for tests (writing junk, revoking leases behind a worker's back) and registry factories.</summary>
internal sealed class EtcdHarness : IAsyncDisposable
{
    private readonly GrpcChannel _channel;

    private EtcdHarness(EtcdProcess etcd)
    {
        Etcd = etcd;
        _channel = GrpcChannel.ForAddress(etcd.ClientUrl);
    }

    /// <summary>Starts a fresh etcd for one test class.</summary>
    public static async Task<EtcdHarness> StartAsync() => new(await EtcdProcess.StartAsync().Within());

    public EtcdProcess Etcd { get; }

    public KV.KVClient Kv => new(_channel);

    public Lease.LeaseClient Lease => new(_channel);

    public CollectingLogger Log { get; } = new();

    public EtcdRegistry Registry(string cluster, double leaseTtlSeconds = 15) => new(
        new EtcdRegistryOptions
        {
            Endpoints = [Etcd.ClientUrl],
            Cluster = cluster,
            LeaseTtl = TimeSpan.FromSeconds(leaseTtlSeconds),
            CallTimeout = TimeSpan.FromSeconds(2),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
        },
        Log);

    public static WorkerRecord Worker(string id, int httpPort = 8817) => new()
    {
        Id = id,
        Host = "127.0.0.1",
        HttpPort = httpPort,
        StreamPort = 8816,
        FlightPort = 8815,
        CapacityBytes = 1L << 30,
        StartedAt = DateTimeOffset.UtcNow,
        Version = "test",
    };

    public async Task<RangeResponse> GetAsync(string key) =>
        await Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }).ResponseAsync.Within();

    public async Task PutAsync(string key, string value, long lease = 0) =>
        await Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease }).ResponseAsync.Within();

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await Etcd.DisposeAsync();
    }
}

/// <summary>Base of test classes that share one real etcd (a cluster name per test keeps them apart).</summary>
public abstract class EtcdTest : IAsyncLifetime
{
    private EtcdHarness? _harness;

    internal EtcdHarness Harness => _harness ?? throw new InvalidOperationException("etcd is not started.");

    public async Task InitializeAsync() => _harness = await EtcdHarness.StartAsync();

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }
}

/// <summary>Keeps log lines so tests can check that a condition was reported.</summary>
internal sealed class CollectingLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Enqueue($"{logLevel}: {formatter(state, exception)}");

    public bool Contains(string text) => Lines.Any(l => l.Contains(text, StringComparison.Ordinal));
}

/// <summary>Polls a condition until it holds, so tests wait on outcomes instead of sleeping.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TestTimeouts.Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(25);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TestTimeouts.Default);
        while (!await condition().WaitAsync(TestTimeouts.Default))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(25);
        }
    }
}
