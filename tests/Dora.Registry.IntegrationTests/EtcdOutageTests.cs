using System.Text.Json;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;
using Microsoft.Extensions.Time.Testing;

namespace Dora.Registry.IntegrationTests;

/// <summary>etcd going away and coming back, and views that suddenly turn empty.</summary>
public sealed class EtcdOutageTests : EtcdTest
{
    [Fact]
    public async Task Clients_keep_their_view_while_etcd_is_down_and_resume_watching_when_it_is_back()
    {
        await using EtcdRegistry workers = Harness.Registry("outage");
        await using EtcdRegistry client = Harness.Registry("outage");
        await using IWorkerRegistration first = await workers.RegisterAsync(EtcdHarness.Worker("w-1"), RegistrationOptions.Default, default).Within();
        await using ClusterView view = await ClusterView.StartAsync(client, new ClusterViewOptions(), Harness.Log, default).Within();
        Assert.Equal("w-1", view.OwnerOf("/data/a.parquet").Id);

        using var connectedGauge = new GaugeReader(view.Meter, "dora.registry.connected");
        Assert.Equal(1, connectedGauge.Read());
        await Harness.Etcd.StopAsync();
        await Eventually.TrueAsync(() => !view.IsRegistryConnected, "the client notices etcd is gone");
        Assert.Equal(0, connectedGauge.Read());
        Assert.Equal("w-1", Assert.Single(view.Membership.Workers).Id);
        Assert.Equal("w-1", view.OwnerOf("/data/a.parquet").Id);
        Assert.True(Harness.Log.Contains("keeping the last membership seen: 1 workers"));
        await Assert.ThrowsAsync<RegistryUnavailableException>(() => client.ReadAsync(default).Within());

        await Harness.Etcd.StartAgainAsync().Within();
        await Eventually.TrueAsync(() => view.IsRegistryConnected, "the client reconnects");
        Assert.Equal(1, connectedGauge.Read());
        Assert.True(Harness.Log.Contains("reachable again"));

        await using IWorkerRegistration second = await workers.RegisterAsync(EtcdHarness.Worker("w-2"), RegistrationOptions.Default, default).Within();
        await Eventually.TrueAsync(() => view.Membership.Workers.Count == 2, "the watch resumed and saw w-2 join");
        Assert.Equal(2, (await client.ReadAsync(default).Within()).Workers.Count);
    }

    [Fact]
    public async Task A_membership_that_suddenly_turns_empty_is_held_back_until_confirmed()
    {
        await using EtcdRegistry client = Harness.Registry("empty");
        LeaseGrantResponse lease = await Harness.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }).ResponseAsync.Within();
        foreach (string id in new[] { "w-x", "w-y" })
        {
            await Harness.PutAsync($"/dora/empty/workers/{id}", JsonSerializer.Serialize(new { id, host = "127.0.0.1" }), lease.ID);
        }

        var time = new FakeTimeProvider();
        var options = new ClusterViewOptions { EmptyViewConfirmation = TimeSpan.FromSeconds(2), DepartureGrace = TimeSpan.FromSeconds(5), RebuildInterval = TimeSpan.Zero, Time = time };
        await using ClusterView view = await ClusterView.StartAsync(client, options, Harness.Log, default).Within();
        Assert.Equal(2, view.Membership.Workers.Count);

        // Both entries vanish in one revision, as if the registry had lost its data. They stay for their grace, then the
        // empty view is suspected, and only believed once a fresh read confirms it.
        await Harness.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease.ID }).ResponseAsync.Within();
        await Eventually.TrueAsync(() => view.DepartingWorkers == 2, "both are kept for their grace");
        Assert.Equal(2, view.Membership.Workers.Count);
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.TrueAsync(() => view.IsEmptyViewSuspected, "the empty view is suspected once the grace is over");
        Assert.Equal(2, view.Membership.Workers.Count);
        Assert.False(view.Ring.IsEmpty);

        // Confirmation cannot come before 2 s after the suspicion, which came no sooner than the 5 s grace.
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.Equal(2, view.Membership.Workers.Count);
        await Eventually.TrueAsync(() => { time.Advance(TimeSpan.FromMilliseconds(100)); return view.Membership.Workers.Count == 0; }, "the empty view is confirmed");
        Assert.True(view.Ring.IsEmpty);
        Assert.False(view.IsEmptyViewSuspected);
    }

    [Fact]
    public async Task Workers_that_come_back_within_the_confirmation_window_never_empty_the_view()
    {
        await using EtcdRegistry client = Harness.Registry("flap");
        await using EtcdRegistry workers = Harness.Registry("flap");
        IWorkerRegistration only = await workers.RegisterAsync(EtcdHarness.Worker("w-only"), RegistrationOptions.Default, default).Within();
        var options = new ClusterViewOptions { EmptyViewConfirmation = TimeSpan.FromSeconds(30), RebuildInterval = TimeSpan.FromMilliseconds(20) };
        await using ClusterView view = await ClusterView.StartAsync(client, options, Harness.Log, default).Within();
        int changes = 0;
        view.RingChanged += (_, _) => changes++;

        await only.DisposeAsync().Within();
        await Eventually.TrueAsync(() => view.IsEmptyViewSuspected, "the empty view is suspected");
        await using IWorkerRegistration back = await workers.RegisterAsync(EtcdHarness.Worker("w-back"), RegistrationOptions.Default, default).Within();
        await Eventually.TrueAsync(() => view.Membership.Find("w-back") is not null, "the new worker is seen");

        Assert.Equal(1, changes);
        Assert.False(view.IsEmptyViewSuspected);
    }
}
