using System.Globalization;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Registry.IntegrationTests;

/// <summary>
/// Workers whose lease vanishes (etcd was unreachable longer than the lease) stay on clients' rings for a grace period
/// while they re-register; workers that leave on purpose go at once.
/// </summary>
public sealed class DepartureGraceTests : EtcdTest
{
    private static readonly string[] Paths = [.. Enumerable.Range(0, 200).Select(i => $"/data/part-{i}.parquet")];

    private static ClusterViewOptions Options(FakeTimeProvider time) =>
        new() { RebuildInterval = TimeSpan.Zero, DepartureGrace = TimeSpan.FromSeconds(20), Time = time };

    private static long LeaseOf(IWorkerRegistration registration) => long.Parse(registration.Session!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_worker_whose_lease_vanished_stays_on_the_ring_for_its_grace_then_goes()
    {
        await using EtcdRegistry workers = Harness.Registry("grace");
        await using EtcdRegistry client = Harness.Registry("grace");
        await using IWorkerRegistration a = await workers.RegisterAsync(EtcdHarness.Worker("w-a"), RegistrationOptions.Default, default).Within();
        IWorkerRegistration b = await workers.RegisterAsync(EtcdHarness.Worker("w-b"), RegistrationOptions.Default, default).Within();
        var time = new FakeTimeProvider();
        await using ClusterView view = await ClusterView.StartAsync(client, Options(time), Harness.Log, default).Within();
        await b.DisposeAsync().Within();

        // Its lease ends without a word, as when the worker's process is killed or etcd was away too long.
        IWorkerRegistration vanishing = await workers.RegisterAsync(EtcdHarness.Worker("w-v"), RegistrationOptions.Default, default).Within();
        await Eventually.TrueAsync(() => view.Membership.Find("w-v") is not null, "w-v joined");
        string[] withV = [.. Paths.Select(p => view.OwnerOf(p).Id)];
        await Harness.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = LeaseOf(vanishing) }).ResponseAsync.Within();
        await Eventually.TrueAsync(() => view.DepartingWorkers == 1, "w-v is kept for its grace");
        Assert.NotNull(view.Membership.Find("w-v"));
        Assert.Equal(withV, Paths.Select(p => view.OwnerOf(p).Id));
        Assert.True(Harness.Log.Contains("w-v vanished"));

        // Its grace runs from when the view saw it vanish, which was no sooner than now on the fake clock.
        time.Advance(TimeSpan.FromSeconds(19.9));
        Assert.NotNull(view.Membership.Find("w-v"));
        await Eventually.TrueAsync(() => { time.Advance(TimeSpan.FromMilliseconds(100)); return view.Membership.Find("w-v") is null; }, "w-v goes once its grace is over");
        Assert.Equal(0, view.DepartingWorkers);
        await vanishing.DisposeAsync().Within();
    }

    [Fact]
    public async Task A_worker_that_re_registers_within_its_grace_keeps_its_share_of_the_key_space()
    {
        await using EtcdRegistry workers = Harness.Registry("back");
        await using EtcdRegistry client = Harness.Registry("back");
        await using IWorkerRegistration a = await workers.RegisterAsync(EtcdHarness.Worker("w-a"), RegistrationOptions.Default, default).Within();
        await using IWorkerRegistration b = await workers.RegisterAsync(EtcdHarness.Worker("w-b"), RegistrationOptions.Default, default).Within();
        var time = new FakeTimeProvider();
        await using ClusterView view = await ClusterView.StartAsync(client, Options(time), Harness.Log, default).Within();
        string[] owners = [.. Paths.Select(p => view.OwnerOf(p).Id)];

        // Both leases end together, as when etcd comes back after a freeze longer than the lease; the workers, alive,
        // renew their registrations.
        await Harness.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = LeaseOf(a) }).ResponseAsync.Within();
        await Harness.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = LeaseOf(b) }).ResponseAsync.Within();
        await Eventually.TrueAsync(() => view.DepartingWorkers == 0 && view.Membership.Workers.All(w => w.Registrations == 2), "both re-registered");
        Assert.Equal(owners, Paths.Select(p => view.OwnerOf(p).Id));
        Assert.Equal(2, view.Membership.Workers.Count);
        Assert.All(view.Membership.Workers, w => Assert.Equal(1, w.Renewals));
    }

    [Fact]
    public async Task A_worker_that_leaves_on_purpose_is_dropped_at_once()
    {
        await using EtcdRegistry workers = Harness.Registry("leave");
        await using EtcdRegistry client = Harness.Registry("leave");
        await using IWorkerRegistration a = await workers.RegisterAsync(EtcdHarness.Worker("w-a"), RegistrationOptions.Default, default).Within();
        IWorkerRegistration b = await workers.RegisterAsync(EtcdHarness.Worker("w-b"), RegistrationOptions.Default, default).Within();
        var time = new FakeTimeProvider();
        await using ClusterView view = await ClusterView.StartAsync(client, Options(time), Harness.Log, default).Within();
        Assert.Equal(2, view.Membership.Workers.Count);

        await b.DisposeAsync().Within();
        await Eventually.TrueAsync(() => view.Membership.Workers.Count == 1, "w-b is dropped without waiting out a grace");
        Assert.Equal(0, view.DepartingWorkers);
    }
}
