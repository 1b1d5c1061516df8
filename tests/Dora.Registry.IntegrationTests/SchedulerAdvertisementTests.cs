using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;

namespace Dora.Registry.IntegrationTests;

/// <summary>The scheduler's entry in etcd: on a lease, kept alive, read by clients, gone when it stops.</summary>
public sealed class SchedulerAdvertisementTests : EtcdTest
{
    [Fact]
    public async Task The_scheduler_is_advertised_on_a_kept_lease_and_removed_when_it_stops()
    {
        await using EtcdRegistry registry = Harness.Registry("sched", leaseTtlSeconds: 2);
        Assert.Null(await registry.ReadSchedulerAsync(default).Within());

        var record = new SchedulerRecord("http://127.0.0.1:8818", DateTimeOffset.UtcNow, "test");
        IAsyncDisposable advertisement = await registry.AdvertiseSchedulerAsync(record, default).Within();
        RangeResponse stored = await Harness.GetAsync("/dora/sched/scheduler");
        Assert.NotEqual(0, Assert.Single(stored.Kvs).Lease);

        // Kept alive well past its 2 s TTL.
        await Task.Delay(TimeSpan.FromSeconds(4));
        await using EtcdRegistry reader = Harness.Registry("sched");
        Assert.Equal(record.Url, (await reader.ReadSchedulerAsync(default).Within())?.Url);

        await advertisement.DisposeAsync();
        Assert.Null(await reader.ReadSchedulerAsync(default).Within());
    }

    [Fact]
    public async Task A_malformed_entry_reads_as_no_scheduler()
    {
        await Harness.PutAsync("/dora/bad/scheduler", "{not json");
        await using EtcdRegistry registry = Harness.Registry("bad");
        Assert.Null(await registry.ReadSchedulerAsync(default).Within());
    }
}
