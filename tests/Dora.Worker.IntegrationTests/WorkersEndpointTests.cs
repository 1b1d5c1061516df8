using System.Net;
using System.Text.Json;
using Dora.Core.Hashing;
using Dora.Core.Mounts;
using Dora.Core.Paths;
using Dora.Core.UnderStorage;
using Dora.Registry;
using Dora.TestSupport;
using Dora.Worker.Hosting;
using Dora.Worker.Metadata;
using Dora.Worker.Pages;

namespace Dora.Worker.IntegrationTests;

/// <summary><c>GET /v1/workers</c>: the membership, the hash policy and a version, for clients that route themselves.</summary>
public sealed class WorkersEndpointTests
{
    [Fact]
    public async Task Workers_lists_the_membership_with_the_policy_and_a_version_that_changes_with_it()
    {
        using var temp = new TemporaryDirectory("workers");
        Directory.CreateDirectory(temp.Combine("ufs"));
        await using LocalCluster cluster = await LocalCluster.StartAsync(3, i => new WorkerOptions
        {
            Mounts = new MountTable([new Mount(DoraPath.Root, new LocalUnderStorage(temp.Combine("ufs")))]),
            Pages = new PageStoreOptions { Directories = [new CacheDirectoryOptions(temp.Combine($"cache-{i}"), 64L << 20)] },
            Metadata = new MetadataOptions { DatabaseDirectory = temp.Combine($"metadata-{i}") },
            HttpPort = 0,
            Stream = new() { Port = 0 },
            Cluster = new ClusterViewOptions { Policy = PlacementPolicies.Create("ring:64") },
        }, configureLogging: null, CancellationToken.None).Within();
        using var http = new HttpClient { BaseAddress = cluster.Workers[0].HttpAddress, Timeout = TestTimeouts.Default };

        JsonElement before = await WaitForAsync(http, members => members == 3);
        Assert.Equal("ring:64", before.GetProperty("hashPolicy").GetString());
        Assert.False(before.GetProperty("capacityWeights").GetBoolean());
        var ids = before.GetProperty("workers").EnumerateArray().Select(w => w.GetProperty("id").GetString()!).Order().ToList();
        Assert.Equal(cluster.Workers.Select(w => w.Identity.Id).Order().ToList(), ids);
        JsonElement first = before.GetProperty("workers")[0];
        foreach (string field in new[] { "host", "httpUri", "streamUri", "streamPort", "tls" })
        {
            Assert.True(first.TryGetProperty(field, out _), $"a worker record without '{field}'");
        }

        await cluster.StopWorkerAsync(2).Within();
        JsonElement after = await WaitForAsync(http, members => members == 2);
        Assert.NotEqual(before.GetProperty("version").GetString(), after.GetProperty("version").GetString());
    }

    private static async Task<JsonElement> WaitForAsync(HttpClient http, Func<int, bool> members)
    {
        DateTime deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            using HttpResponseMessage response = await http.GetAsync("/v1/workers").Within();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            JsonElement document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (members(document.GetProperty("workers").GetArrayLength()))
            {
                return document;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the membership never got there: {document}");
            await Task.Delay(20);
        }
    }
}
