using System.Collections.Concurrent;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;

namespace Dora.Registry.IntegrationTests;

/// <summary>
/// A watcher whose own connection to etcd is cut (etcd stays up for everyone else) must, once reconnected, apply every
/// change it missed, in order, exactly once; and list again if etcd compacted the history it needed.
/// </summary>
public sealed class WatchResumeTests : EtcdTest
{
    private EtcdRegistry WatcherThrough(TcpProxy proxy, string cluster) => new(
        new EtcdRegistryOptions
        {
            Endpoints = [new Uri($"http://127.0.0.1:{proxy.Port}")],
            Cluster = cluster,
            CallTimeout = TimeSpan.FromSeconds(2),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        },
        Harness.Log);

    [Fact]
    public async Task Changes_made_while_a_watcher_was_cut_off_arrive_in_order_once_it_reconnects()
    {
        await using var proxy = new TcpProxy(Harness.Etcd.ClientPort);
        await using EtcdRegistry watcherRegistry = WatcherThrough(proxy, "resume");
        await using EtcdRegistry workers = Harness.Registry("resume");
        await using IWorkerRegistration stays = await workers.RegisterAsync(EtcdHarness.Worker("w-stays"), RegistrationOptions.Default, default).Within();
        await using IMembershipWatch watch = await watcherRegistry.WatchAsync(default).Within();
        var revisions = new ConcurrentQueue<long>();
        watch.Changed += (_, _) => revisions.Enqueue(watch.Current.Revision);
        Assert.Single(watch.Current.Workers);

        proxy.Cut();
        await Eventually.TrueAsync(() => !watch.IsConnected, "the watcher notices it is cut off");

        // While it is away: one worker joins and leaves again, another joins, the first is rewritten.
        IWorkerRegistration transient = await workers.RegisterAsync(EtcdHarness.Worker("w-transient"), RegistrationOptions.Default, default).Within();
        await transient.DisposeAsync().Within();
        await using IWorkerRegistration joined = await workers.RegisterAsync(EtcdHarness.Worker("w-joined", httpPort: 9999), RegistrationOptions.Default, default).Within();
        Assert.Single(watch.Current.Workers);

        proxy.Restore();
        await Eventually.TrueAsync(() => watch.IsConnected && watch.Current.Workers.Count == 2, "the watcher catches up");
        Assert.Equal(["w-joined", "w-stays"], watch.Current.Workers.Select(w => w.Id));
        Assert.Equal(9999, watch.Current.Find("w-joined")!.HttpPort);
        Assert.Null(watch.Current.Find("w-transient"));
        Assert.Equal(revisions.Order(), revisions);
    }

    [Fact]
    public async Task A_watcher_that_fell_behind_compaction_lists_the_membership_again()
    {
        await using var proxy = new TcpProxy(Harness.Etcd.ClientPort);
        await using EtcdRegistry watcherRegistry = WatcherThrough(proxy, "compact");
        await using EtcdRegistry workers = Harness.Registry("compact");
        IWorkerRegistration early = await workers.RegisterAsync(EtcdHarness.Worker("w-early"), RegistrationOptions.Default, default).Within();
        await using IMembershipWatch watch = await watcherRegistry.WatchAsync(default).Within();
        Assert.Single(watch.Current.Workers);

        proxy.Cut();
        await Eventually.TrueAsync(() => !watch.IsConnected, "the watcher notices it is cut off");
        await early.DisposeAsync().Within();
        await using IWorkerRegistration late = await workers.RegisterAsync(EtcdHarness.Worker("w-late"), RegistrationOptions.Default, default).Within();
        RangeResponse now = await Harness.Kv.RangeAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("/") }).ResponseAsync.Within();
        await Harness.Kv.CompactAsync(new CompactionRequest { Revision = now.Header.Revision, Physical = true }).ResponseAsync.Within();

        proxy.Restore();
        await Eventually.TrueAsync(() => watch.Current.Find("w-late") is not null, "the watcher relists after compaction");
        Assert.Equal("w-late", Assert.Single(watch.Current.Workers).Id);
        Assert.True(Harness.Log.Contains("fell behind compaction"));
    }
}
