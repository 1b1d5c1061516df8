using Dora.Core.Hashing;
using Dora.Registry;
using Dora.Registry.InProcess;
using Dora.TestSupport;

namespace Dora.Registry.Tests;

public class InProcessRegistryTests
{
    internal static WorkerRecord Worker(string id, long capacity = 1L << 30) => new()
    {
        Id = id,
        Host = "127.0.0.1",
        HttpPort = 8817,
        CapacityBytes = capacity,
        StartedAt = DateTimeOffset.UtcNow,
        Version = "test",
    };

    [Fact]
    public async Task Workers_register_and_deregister_and_watchers_see_both()
    {
        await using var registry = new InProcessRegistry();
        await using IMembershipWatch watch = await registry.WatchAsync(default).Within();
        int changes = 0;
        watch.Changed += (_, _) => changes++;

        IWorkerRegistration a = await registry.RegisterAsync(Worker("w-a"), RegistrationOptions.Default, default).Within();
        await using IWorkerRegistration b = await registry.RegisterAsync(Worker("w-b"), RegistrationOptions.Default, default).Within();
        Assert.Equal(["w-a", "w-b"], watch.Current.Workers.Select(w => w.Id));

        await a.DisposeAsync().Within();
        await a.DisposeAsync().Within();
        await a.Completion.Within();
        Assert.Equal(["w-b"], (await registry.ReadAsync(default).Within()).Workers.Select(w => w.Id));
        Assert.Equal(3, changes);
        Assert.True(watch.Current.Revision > 0);
    }

    [Fact]
    public async Task A_second_worker_with_a_live_id_is_refused()
    {
        await using var registry = new InProcessRegistry("test");
        await using IWorkerRegistration first = await registry.RegisterAsync(Worker("w-1"), RegistrationOptions.Default, default).Within();
        var error = await Assert.ThrowsAsync<DuplicateWorkerIdException>(() => registry.RegisterAsync(Worker("w-1"), RegistrationOptions.Default, default));
        Assert.Contains("'w-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("in-process registry 'test'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "invalid")]
    [InlineData("has space", "invalid")]
    public async Task Invalid_records_are_refused_naming_the_field(string id, string expected)
    {
        await using var registry = new InProcessRegistry();
        var error = await Assert.ThrowsAsync<FormatException>(() => registry.RegisterAsync(Worker(id), RegistrationOptions.Default, default));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        var port = await Assert.ThrowsAsync<FormatException>(() => registry.RegisterAsync(Worker("w-p") with { HttpPort = -1 }, RegistrationOptions.Default, default));
        Assert.Contains("httpPort -1", port.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_view_routes_by_the_membership_and_follows_changes()
    {
        await using var registry = new InProcessRegistry();
        await using IWorkerRegistration a = await registry.RegisterAsync(Worker("w-a"), RegistrationOptions.Default, default).Within();
        var options = new ClusterViewOptions { RebuildInterval = TimeSpan.FromMilliseconds(10) };
        await using ClusterView view = await ClusterView.StartAsync(registry, options, logger: null, default).Within();
        Assert.Equal("w-a", view.OwnerOf("/any/path").Id);

        var changed = new TaskCompletionSource();
        view.RingChanged += (_, _) => changed.TrySetResult();
        await using IWorkerRegistration b = await registry.RegisterAsync(Worker("w-b"), RegistrationOptions.Default, default).Within();
        await changed.Task.Within();

        HashRing expected = HashRing.Build([new("w-a"), new("w-b")], PlacementPolicies.Default);
        for (int i = 0; i < 200; i++)
        {
            string path = $"/data/{i}.bin";
            Assert.Equal(expected.OwnerOf(path).Id, view.OwnerOf(path).Id);
        }
    }

    [Fact]
    public async Task Ring_rebuilds_are_at_least_the_rebuild_interval_apart_however_fast_workers_join()
    {
        await using var registry = new InProcessRegistry();
        var interval = TimeSpan.FromMilliseconds(200);
        await using ClusterView view = await ClusterView.StartAsync(registry, new ClusterViewOptions { RebuildInterval = interval }, logger: null, default).Within();
        var rebuilds = new System.Collections.Concurrent.ConcurrentQueue<DateTime>();
        view.RingChanged += (_, _) => rebuilds.Enqueue(DateTime.UtcNow);

        var registrations = new List<IWorkerRegistration>();
        var started = DateTime.UtcNow;
        for (int i = 0; i < 40; i++)
        {
            registrations.Add(await registry.RegisterAsync(Worker($"w-{i:D2}"), RegistrationOptions.Default, default).Within());
            await Task.Delay(10);
        }

        while (view.Membership.Workers.Count < 40)
        {
            Assert.True(DateTime.UtcNow - started < TestTimeouts.Default, "the view never caught up");
            await Task.Delay(10);
        }

        // 40 joins over at least 400 ms: far fewer rebuilds than joins, each at least the interval after the last.
        DateTime[] times = [.. rebuilds];
        Assert.InRange(times.Length, 1, 1 + (int)((DateTime.UtcNow - started) / interval));
        for (int i = 1; i < times.Length; i++)
        {
            Assert.True(times[i] - times[i - 1] >= interval * 0.9, $"rebuilds {i - 1} and {i} were {(times[i] - times[i - 1]).TotalMilliseconds} ms apart");
        }

        foreach (IWorkerRegistration registration in registrations)
        {
            await registration.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_idle_cluster_view_sleeps_instead_of_spinning()
    {
        await using var registry = new InProcessRegistry();
        await using IWorkerRegistration worker = await registry.RegisterAsync(Worker("w-idle"), RegistrationOptions.Default, default).Within();
        await using ClusterView view = await ClusterView.StartAsync(registry, new ClusterViewOptions(), logger: null, default).Within();
        await Task.Delay(300);
        Assert.InRange(view.WakeUps, 1, 2);
    }

    [Fact]
    public async Task Capacity_weights_give_a_bigger_cache_a_bigger_share_when_asked_for()
    {
        await using var registry = new InProcessRegistry();
        await using IWorkerRegistration small = await registry.RegisterAsync(Worker("w-small", 1L << 30), RegistrationOptions.Default, default).Within();
        await using IWorkerRegistration big = await registry.RegisterAsync(Worker("w-big", 3L << 30), RegistrationOptions.Default, default).Within();
        Membership membership = await registry.ReadAsync(default).Within();

        double[] weighted = membership.ToRing(PlacementPolicies.Default, capacityWeights: true).KeyShares();
        double[] even = membership.ToRing(PlacementPolicies.Default, capacityWeights: false).KeyShares();
        int bigIndex = membership.Workers.ToList().FindIndex(w => w.Id == "w-big");
        Assert.InRange(weighted[bigIndex], 0.72, 0.78);
        Assert.InRange(even[bigIndex], 0.47, 0.53);
    }
}
