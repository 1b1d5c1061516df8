using System.Net;
using Dora.Hosting;
using Dora.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Dora.Worker.IntegrationTests;

/// <summary>The limits of Dora's HTTP faces on a real Kestrel server: oversized headers, and a client over its request rate.</summary>
public sealed class HttpLimitsTests : IAsyncLifetime, IDisposable
{
    private WebApplication _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            HttpLimits.Apply(kestrel);
        });
        _app = builder.Build();
        _app.UseRequestRateLimit(perSecond: 1);
        _app.MapGet("/healthz", () => "ok");
        _app.MapGet("/v1/thing", () => "thing");
        await _app.StartAsync().Within();
        _http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task A_client_over_its_request_rate_gets_429_with_retry_after_and_healthz_is_never_limited()
    {
        // A bucket of 2 refilled by 1 a second: ten requests in a row cannot all pass.
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (int i = 0; i < 10; i++)
        {
            HttpResponseMessage response = await _http.GetAsync("/v1/thing").Within();
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited ??= response;
            }
        }

        Assert.NotNull(limited);
        Assert.Equal("1", limited!.Headers.RetryAfter?.ToString());
        Assert.Contains("requests per second", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/healthz").Within()).StatusCode);
        }
    }

    [Fact]
    public async Task Headers_over_32_KiB_get_431()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Padding", new string('x', 40 << 10));
        using HttpResponseMessage response = await _http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }
}
