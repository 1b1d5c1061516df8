using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>Redirect mode: large objects owned elsewhere are sent to the owner with a URL the owner accepts; small ones are served here.</summary>
public sealed class RedirectTests : IAsyncLifetime
{
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(2, ufs =>
    {
        Directory.CreateDirectory(Path.Combine(ufs, "lake"));
        for (int i = 0; i < 8; i++)
        {
            TestFiles.Write(Path.Combine(ufs, "lake", $"big-{i}.bin"), 300_000, seed: i);
            TestFiles.Write(Path.Combine(ufs, "lake", $"small-{i}.bin"), 500, seed: 100 + i);
        }
    }, redirectMinBytes: 100_000);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<string> PresignAsync(int gateway, string key) =>
        await _cluster.Client(gateway).GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "lake", Key = key, Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Amazon.S3.Protocol.HTTP });

    [Fact]
    public async Task A_large_object_owned_elsewhere_is_redirected_to_its_owner_and_the_bytes_and_range_arrive()
    {
        string key = Enumerable.Range(0, 8).Select(i => $"big-{i}.bin").First(k => _cluster.OwnerIndex("/lake/" + k) == 1);
        byte[] expected = File.ReadAllBytes(Path.Combine(_cluster.UfsPath, "lake", key));
        string url = await PresignAsync(0, key);

        using var noFollow = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        using HttpResponseMessage redirect = await noFollow.GetAsync(url).Within();
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Assert.StartsWith(_cluster.Endpoint(1) + "/lake/" + key + "?", redirect.Headers.Location!.ToString(), StringComparison.Ordinal);

        using var follow = new HttpClient();
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        using HttpResponseMessage response = await follow.SendAsync(ranged).Within();
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(expected.AsSpan(1000, 1000).ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(expected, await follow.GetByteArrayAsync(url).Within());
    }

    [Fact]
    public async Task Small_objects_and_objects_owned_here_are_served_without_a_redirect()
    {
        using var noFollow = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        string small = Enumerable.Range(0, 8).Select(i => $"small-{i}.bin").First(k => _cluster.OwnerIndex("/lake/" + k) == 1);
        Assert.Equal(HttpStatusCode.OK, (await noFollow.GetAsync(await PresignAsync(0, small)).Within()).StatusCode);
        string own = Enumerable.Range(0, 8).Select(i => $"big-{i}.bin").First(k => _cluster.OwnerIndex("/lake/" + k) == 0);
        Assert.Equal(HttpStatusCode.OK, (await noFollow.GetAsync(await PresignAsync(0, own)).Within()).StatusCode);

        // HEAD is answered where it arrives: it moves no bytes.
        string head = await _cluster.Client(0).GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "lake", Key = small.Replace("small", "big", StringComparison.Ordinal), Verb = HttpVerb.HEAD, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Amazon.S3.Protocol.HTTP });
        Assert.Equal(HttpStatusCode.OK, (await noFollow.SendAsync(new HttpRequestMessage(HttpMethod.Head, head)).Within()).StatusCode);
    }
}
