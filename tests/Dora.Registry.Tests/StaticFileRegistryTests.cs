using Dora.Registry;
using Dora.Registry.StaticFile;
using Dora.TestSupport;

namespace Dora.Registry.Tests;

public class StaticFileRegistryTests
{
    private const string TwoWorkers = """
        {"workers": [
          {"id": "w-1", "host": "10.0.0.1", "httpPort": 8817, "streamPort": 8816, "flightPort": 8815},
          {"id": "w-2", "host": "10.0.0.2", "httpPort": 8817}
        ]}
        """;

    [Fact]
    public async Task The_file_lists_the_members_and_malformed_entries_are_skipped()
    {
        using var directory = new TemporaryDirectory();
        string file = directory.Combine("members.json");
        await File.WriteAllTextAsync(file, """
            {"workers": [
              {"id": "w-1", "host": "10.0.0.1", "httpPort": 8817},
              {"host": "no-id"},
              {"id": "w-1", "host": "twice"},
              {"id": "w bad", "host": "h"},
              42
            ]}
            """);
        var log = new ListLogger();
        await using var registry = new StaticFileRegistry(file, logger: log);

        Membership membership = await registry.ReadAsync(default).Within();
        Assert.Equal("10.0.0.1", Assert.Single(membership.Workers).Host);
        Assert.Equal(4, log.Lines.Count);
        Assert.Contains(log.Lines, l => l.Contains("listed twice", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watches_pick_up_edits_and_keep_the_last_view_when_the_file_breaks()
    {
        using var directory = new TemporaryDirectory();
        string file = directory.Combine("members.json");
        await File.WriteAllTextAsync(file, """{"workers": [{"id": "w-1", "host": "h"}]}""");
        await using var registry = new StaticFileRegistry(file, TimeSpan.FromMilliseconds(20));
        await using IMembershipWatch watch = await registry.WatchAsync(default).Within();
        Assert.Single(watch.Current.Workers);

        await File.WriteAllTextAsync(file, TwoWorkers);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        await WaitUntilAsync(() => watch.Current.Workers.Count == 2);

        await File.WriteAllTextAsync(file, "{ broken");
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(10));
        await WaitUntilAsync(() => !watch.IsConnected);
        Assert.Equal(2, watch.Current.Workers.Count);
    }

    [Fact]
    public async Task Only_listed_workers_may_register_and_a_missing_file_is_a_clear_error()
    {
        using var directory = new TemporaryDirectory();
        string file = directory.Combine("members.json");
        await File.WriteAllTextAsync(file, TwoWorkers);
        await using var registry = new StaticFileRegistry(file);

        await using IWorkerRegistration listed = await registry.RegisterAsync(InProcessRegistryTests.Worker("w-2"), RegistrationOptions.Default, default).Within();
        var unlisted = await Assert.ThrowsAsync<RegistryUnavailableException>(
            () => registry.RegisterAsync(InProcessRegistryTests.Worker("w-9"), RegistrationOptions.Default, default));
        Assert.Contains("'w-9' is not listed", unlisted.Message, StringComparison.Ordinal);
        Assert.Contains("\"id\":\"w-9\"", unlisted.Message, StringComparison.Ordinal);

        await using var missing = new StaticFileRegistry(directory.Combine("nope.json"));
        var error = await Assert.ThrowsAsync<RegistryUnavailableException>(() => missing.ReadAsync(default));
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zookeeper://x", "not understood")]
    [InlineData("etcd://", "bad etcd endpoint")]
    [InlineData("etcd://host:port/path", "bad etcd endpoint")]
    public void Bad_registry_addresses_are_refused_with_the_accepted_forms(string address, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RegistryAddress.Open(address, null, null, null));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("etcd://host:port", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_cluster_name_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => RegistryAddress.Open("etcd://127.0.0.1:2379", "a/b", null, null));
        Assert.Contains("Cluster name 'a/b'", error.Message, StringComparison.Ordinal);
        await using IClusterRegistry ok = RegistryAddress.Open("etcd://127.0.0.1:2379,127.0.0.2:2379", "prod", null, null);
        Assert.Equal("etcd://127.0.0.1:2379,127.0.0.2:2379 (cluster 'prod')", ok.Description);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }
}
