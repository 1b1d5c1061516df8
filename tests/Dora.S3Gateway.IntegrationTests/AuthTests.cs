using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>Signature Version 4 as S3 checks it: header and presigned forms, wrong and unknown keys, skew, expiry, anonymous access.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(1, ufs =>
    {
        Directory.CreateDirectory(Path.Combine(ufs, "data"));
        File.WriteAllText(Path.Combine(ufs, "data", "secret.txt"), "only for signed requests\n");
    }, _time);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static async Task<AmazonS3Exception> RefusedAsync(Func<Task> call) => await Assert.ThrowsAnyAsync<AmazonS3Exception>(call).Within();

    [Fact]
    public async Task A_wrong_secret_an_unknown_key_and_no_signature_are_refused_with_S3_codes()
    {
        Assert.Equal("SignatureDoesNotMatch", (await RefusedAsync(() => _cluster.Client(0, secret: "not-the-secret").GetObjectAsync("data", "secret.txt"))).ErrorCode);
        Assert.Equal("InvalidAccessKeyId", (await RefusedAsync(() => _cluster.Client(0, accessKey: "AKIAUNKNOWN").ListBucketsAsync())).ErrorCode);

        using var http = new HttpClient();
        HttpResponseMessage anonymous = await http.GetAsync(_cluster.Endpoint(0) + "/data/secret.txt").Within();
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        string body = await anonymous.Content.ReadAsStringAsync();
        Assert.Contains("<Code>AccessDenied</Code>", body, StringComparison.Ordinal);
        Assert.DoesNotContain("only for signed requests", body, StringComparison.Ordinal);
        Assert.DoesNotContain(GatewayCluster.Secret, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_presigned_url_works_until_it_expires_and_not_once_changed()
    {
        string url = await _cluster.Client(0).GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "data", Key = "secret.txt", Verb = HttpVerb.GET, Expires = _time.GetUtcNow().UtcDateTime.AddMinutes(5), Protocol = Amazon.S3.Protocol.HTTP,
        });
        using var http = new HttpClient();
        Assert.Equal("only for signed requests\n", await http.GetStringAsync(url).Within());

        // Another key under the same signature.
        HttpResponseMessage tampered = await http.GetAsync(url.Replace("secret.txt", "other.txt", StringComparison.Ordinal)).Within();
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.Contains("SignatureDoesNotMatch", await tampered.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromMinutes(6));
        HttpResponseMessage expired = await http.GetAsync(url).Within();
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Contains("Request has expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_signed_more_than_15_minutes_away_from_the_gateway_clock_is_RequestTimeTooSkewed()
    {
        _time.Advance(TimeSpan.FromMinutes(20));
        AmazonS3Exception error = await RefusedAsync(() => _cluster.Client(0).GetObjectAsync("data", "secret.txt"));
        Assert.Equal("RequestTimeTooSkewed", error.ErrorCode);
        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
    }
}
