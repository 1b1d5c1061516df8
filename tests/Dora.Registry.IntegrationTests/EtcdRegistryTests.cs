using System.Text.Json;
using Dora.Registry;
using Dora.Registry.Etcd;
using Dora.TestSupport;
using Etcdserverpb;
using Google.Protobuf;

namespace Dora.Registry.IntegrationTests;

/// <summary>The etcd registry against a real etcd: one server per test class, one cluster name per test.</summary>
public sealed class EtcdRegistryTests : EtcdTest
{
    [Fact]
    public async Task Registering_writes_the_record_on_a_lease_and_deregistering_removes_it_at_once()
    {
        await using EtcdRegistry registry = Harness.Registry("reg", leaseTtlSeconds: 7);
        IWorkerRegistration registration = await registry.RegisterAsync(EtcdHarness.Worker("w-1"), RegistrationOptions.Default, default).Within();

        RangeResponse stored = await Harness.GetAsync("/dora/reg/workers/w-1");
        var kv = Assert.Single(stored.Kvs);
        using (var json = JsonDocument.Parse(kv.Value.ToByteArray()))
        {
            Assert.Equal("w-1", json.RootElement.GetProperty("id").GetString());
            Assert.Equal(8817, json.RootElement.GetProperty("httpPort").GetInt32());
            Assert.Equal(1L << 30, json.RootElement.GetProperty("capacityBytes").GetInt64());
            foreach (string field in new[] { "host", "flightPort", "streamPort", "startedAt", "version" })
            {
                Assert.True(json.RootElement.TryGetProperty(field, out _), $"field {field} is missing");
            }
        }

        Assert.NotEqual(0, kv.Lease);
        Assert.Equal(kv.Lease.ToString("x"), registration.Session);
        LeaseTimeToLiveResponse ttl = await Harness.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kv.Lease }).ResponseAsync.Within();
        Assert.Equal(7, ttl.GrantedTTL);

        await registration.DisposeAsync().Within();
        Assert.Empty((await Harness.GetAsync("/dora/reg/workers/w-1")).Kvs);
        await registration.Completion.Within();
    }

    [Fact]
    public async Task A_watch_sees_workers_join_and_leave()
    {
        await using EtcdRegistry registry = Harness.Registry("watch");
        await using IMembershipWatch watch = await registry.WatchAsync(default).Within();
        Assert.Empty(watch.Current.Workers);

        IWorkerRegistration a = await registry.RegisterAsync(EtcdHarness.Worker("w-a"), RegistrationOptions.Default, default).Within();
        IWorkerRegistration b = await registry.RegisterAsync(EtcdHarness.Worker("w-b"), RegistrationOptions.Default, default).Within();
        await Eventually.TrueAsync(() => watch.Current.Workers.Count == 2, "both workers are seen");
        Assert.Equal(["w-a", "w-b"], watch.Current.Workers.Select(w => w.Id));

        await a.DisposeAsync().Within();
        await Eventually.TrueAsync(() => watch.Current.Workers.Count == 1, "w-a left");
        Assert.Equal("w-b", watch.Current.Workers[0].Id);
        Assert.True(watch.IsConnected);
        await b.DisposeAsync().Within();
    }

    [Fact]
    public async Task Malformed_entries_under_the_prefix_are_skipped_with_a_warning()
    {
        await using EtcdRegistry registry = Harness.Registry("junk");
        await Harness.PutAsync("/dora/junk/workers/w-bad", "{not json");
        await Harness.PutAsync("/dora/junk/workers/w-liar", JsonSerializer.Serialize(new { id = "w-other", host = "h" }));
        await Harness.PutAsync("/dora/junk/workers/bad id!", "{}");
        await Harness.PutAsync("/dora/junk/workers/w-port", """{"id":"w-port","host":"h","httpPort":70000}""");
        await using IWorkerRegistration good = await registry.RegisterAsync(EtcdHarness.Worker("w-good"), RegistrationOptions.Default, default).Within();

        Membership membership = await registry.ReadAsync(default).Within();
        Assert.Equal("w-good", Assert.Single(membership.Workers).Id);
        Assert.True(Harness.Log.Contains("/dora/junk/workers/w-bad"));
        Assert.True(Harness.Log.Contains("claims id 'w-other'"));
        Assert.True(Harness.Log.Contains("httpPort 70000"));

        // A watch also skips junk that arrives later, and keeps serving.
        await using IMembershipWatch watch = await registry.WatchAsync(default).Within();
        await Harness.PutAsync("/dora/junk/workers/w-late", "[]");
        await using IWorkerRegistration second = await registry.RegisterAsync(EtcdHarness.Worker("w-second"), RegistrationOptions.Default, default).Within();
        await Eventually.TrueAsync(() => watch.Current.Workers.Count == 2, "the second worker is seen");
        Assert.Null(watch.Current.Find("w-late"));
    }

    [Fact]
    public async Task A_second_live_worker_with_the_same_id_is_refused_with_a_clear_error()
    {
        await using EtcdRegistry first = Harness.Registry("dup", leaseTtlSeconds: 2);
        await using EtcdRegistry second = Harness.Registry("dup", leaseTtlSeconds: 2);
        await using IWorkerRegistration live = await first.RegisterAsync(EtcdHarness.Worker("w-same", httpPort: 1111), RegistrationOptions.Default, default).Within();

        var error = await Assert.ThrowsAsync<DuplicateWorkerIdException>(
            () => second.RegisterAsync(EtcdHarness.Worker("w-same", httpPort: 2222), RegistrationOptions.Default, default).Within());
        Assert.Contains("'w-same'", error.Message, StringComparison.Ordinal);
        Assert.Contains("http port 1111", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);

        // The live worker is untouched.
        var kv = Assert.Single((await Harness.GetAsync("/dora/dup/workers/w-same")).Kvs);
        Assert.Contains("1111", kv.Value.ToStringUtf8(), StringComparison.Ordinal);
        Assert.False(live.Completion.IsCompleted);
    }

    [Fact]
    public async Task A_restarted_worker_takes_over_the_entry_of_its_previous_run_at_once()
    {
        await using EtcdRegistry registry = Harness.Registry("restart", leaseTtlSeconds: 60);
        // The previous run's entry, left behind by a crash: its lease would live another minute.
        LeaseGrantResponse old = await Harness.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }).ResponseAsync.Within();
        await Harness.PutAsync("/dora/restart/workers/w-r", JsonSerializer.Serialize(new { id = "w-r", host = "old-host" }), old.ID);

        var started = DateTime.UtcNow;
        await using IWorkerRegistration registration = await registry.RegisterAsync(
            EtcdHarness.Worker("w-r"), new RegistrationOptions { PreviousSession = old.ID.ToString("x") }, default).Within();

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        var kv = Assert.Single((await Harness.GetAsync("/dora/restart/workers/w-r")).Kvs);
        Assert.NotEqual(old.ID, kv.Lease);
        Assert.Contains("127.0.0.1", kv.Value.ToStringUtf8(), StringComparison.Ordinal);
        Assert.True(Harness.Log.Contains("taking over"));
    }

    [Fact]
    public async Task An_entry_left_by_a_crashed_run_without_its_session_is_claimed_once_its_lease_expires()
    {
        await using EtcdRegistry registry = Harness.Registry("expire", leaseTtlSeconds: 2);
        var granted = DateTime.UtcNow;
        LeaseGrantResponse old = await Harness.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 }).ResponseAsync.Within();
        await Harness.PutAsync("/dora/expire/workers/w-e", JsonSerializer.Serialize(new { id = "w-e", host = "old-host" }), old.ID);

        await using IWorkerRegistration registration = await registry.RegisterAsync(EtcdHarness.Worker("w-e"), RegistrationOptions.Default, default).Within();
        var kv = Assert.Single((await Harness.GetAsync("/dora/expire/workers/w-e")).Kvs);
        Assert.Contains("127.0.0.1", kv.Value.ToStringUtf8(), StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - granted >= TimeSpan.FromSeconds(1.5), "the old entry was replaced before its lease expired");
    }

    [Fact]
    public async Task A_lost_lease_is_granted_again_and_the_entry_rewritten()
    {
        await using EtcdRegistry registry = Harness.Registry("lost", leaseTtlSeconds: 3);
        await using IWorkerRegistration registration = await registry.RegisterAsync(EtcdHarness.Worker("w-l"), RegistrationOptions.Default, default).Within();
        string? renewed = null;
        registration.SessionChanged += (_, session) => renewed = session;
        long first = Assert.Single((await Harness.GetAsync("/dora/lost/workers/w-l")).Kvs).Lease;

        // Revoking the lease behind the worker's back deletes the entry, as an expiry during an outage would.
        await Harness.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = first }).ResponseAsync.Within();
        await Eventually.TrueAsync(() => renewed is not null, "the registration is renewed");

        var kv = Assert.Single((await Harness.GetAsync("/dora/lost/workers/w-l")).Kvs);
        Assert.NotEqual(first, kv.Lease);
        Assert.Equal(kv.Lease.ToString("x"), renewed);
        Assert.Equal(renewed, registration.Session);
    }

    [Fact]
    public async Task An_entry_deleted_while_its_lease_lives_is_written_again()
    {
        await using EtcdRegistry registry = Harness.Registry("deleted", leaseTtlSeconds: 3);
        await using IWorkerRegistration registration = await registry.RegisterAsync(EtcdHarness.Worker("w-d"), RegistrationOptions.Default, default).Within();
        await Harness.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("/dora/deleted/workers/w-d") }).ResponseAsync.Within();

        await Eventually.TrueAsync(async () => (await Harness.GetAsync("/dora/deleted/workers/w-d")).Kvs.Count == 1, "the entry is back");
    }
}
