using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>The read operations through the AWS SDK for .NET: buckets, objects, ranges, conditions, owner routing.</summary>
public sealed class ReadTests : IAsyncLifetime
{
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(2, ufs =>
    {
        Directory.CreateDirectory(Path.Combine(ufs, "lake", "events"));
        Directory.CreateDirectory(Path.Combine(ufs, "archive"));
        for (int i = 0; i < 12; i++)
        {
            TestFiles.Write(Path.Combine(ufs, "lake", "events", $"part-{i:D2}.bin"), 1000 + (i * 70_000), seed: i);
        }

        TestFiles.Write(Path.Combine(ufs, "lake", "big.bin"), (5 * GatewayCluster.PageSize) + 321, seed: 99);
        File.WriteAllText(Path.Combine(ufs, "archive", "readme.txt"), "archived\n");
        File.WriteAllText(Path.Combine(ufs, "not-a-bucket.txt"), "files at the root are in no bucket\n");
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string Local(params string[] parts) => Path.Combine([_cluster.UfsPath, .. parts]);

    private static async Task<byte[]> BodyAsync(GetObjectResponse response)
    {
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task ListBuckets_names_the_top_level_directories()
    {
        ListBucketsResponse buckets = await _cluster.Client(0).ListBucketsAsync().Within();
        Assert.Equal(["archive", "lake"], buckets.Buckets.Select(b => b.BucketName).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await _cluster.Client(1).GetBucketLocationAsync("lake").Within()).HttpStatusCode);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).GetBucketLocationAsync("nope")).Within();
        Assert.Equal("NoSuchBucket", missing.ErrorCode);
    }

    [Fact]
    public async Task Every_object_reads_byte_exact_from_either_gateway_and_a_non_owner_reads_through_the_owner()
    {
        foreach (string name in Directory.GetFiles(Local("lake", "events")).Select(f => Path.GetFileName(f)))
        {
            byte[] expected = File.ReadAllBytes(Local("lake", "events", name));
            for (int gateway = 0; gateway < 2; gateway++)
            {
                using GetObjectResponse response = await _cluster.Client(gateway).GetObjectAsync("lake", $"events/{name}").Within();
                Assert.Equal(expected.Length, response.ContentLength);
                Assert.Equal(SHA256.HashData(expected), SHA256.HashData(await BodyAsync(response)));
            }
        }

        // Only the owners read the under storage: a gateway that does not own a key went through its owner.
        string path = "/lake/big.bin";
        int owner = _cluster.OwnerIndex(path);
        int other = 1 - owner;
        int readsBefore = _cluster.Storages[other].Reads;
        using GetObjectResponse viaOther = await _cluster.Client(other).GetObjectAsync("lake", "big.bin").Within();
        Assert.Equal(File.ReadAllBytes(Local("lake", "big.bin")), await BodyAsync(viaOther));
        Assert.Equal(readsBefore, _cluster.Storages[other].Reads);
        Assert.True(_cluster.Storages[owner].Reads > 0);
    }

    [Theory]
    [InlineData("bytes=0-99", 0, 100)]
    [InlineData("bytes=65530-65545", 65530, 16)]
    [InlineData("bytes=300000-", 300000, -1)]
    [InlineData("bytes=-1000", -1000, 1000)]
    [InlineData("bytes=10-999999999", 10, -1)]
    public async Task A_range_returns_206_with_exactly_those_bytes(string range, long start, long length)
    {
        byte[] whole = File.ReadAllBytes(Local("lake", "big.bin"));
        long from = start < 0 ? whole.Length + start : start;
        long count = length < 0 ? whole.Length - from : length;

        // Every form of the header, sent as written through a presigned URL (the SDK would rewrite it).
        string url = await _cluster.Client(0).GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "lake", Key = "big.bin", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(10), Protocol = Amazon.S3.Protocol.HTTP });
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Range", range);
        using HttpResponseMessage response = await http.SendAsync(request).Within();
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes", response.Headers.AcceptRanges.Single());
        Assert.Equal($"bytes {from}-{from + count - 1}/{whole.Length}", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(whole.AsSpan((int)from, (int)count).ToArray(), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_range_past_the_end_is_InvalidRange_and_part_1_is_the_whole_object()
    {
        var request = new GetObjectRequest { BucketName = "lake", Key = "big.bin", ByteRange = new ByteRange(10_000_000, 10_000_010) };
        var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).GetObjectAsync(request)).Within();
        Assert.Equal("InvalidRange", error.ErrorCode);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, error.StatusCode);

        using GetObjectResponse part = await _cluster.Client(1).GetObjectAsync(new GetObjectRequest { BucketName = "lake", Key = "big.bin", PartNumber = 1 }).Within();
        Assert.Equal(File.ReadAllBytes(Local("lake", "big.bin")), await BodyAsync(part));
        var second = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(1).GetObjectAsync(new GetObjectRequest { BucketName = "lake", Key = "big.bin", PartNumber = 2 })).Within();
        Assert.Equal("InvalidPartNumber", second.ErrorCode);
    }

    [Fact]
    public async Task Head_and_conditional_gets_follow_S3()
    {
        AmazonS3Client s3 = _cluster.Client(0);
        GetObjectMetadataResponse head = await s3.GetObjectMetadataAsync("archive", "readme.txt").Within();
        Assert.Equal(9, head.ContentLength);
        Assert.Matches("^\"[0-9a-f]{32}-1\"$", head.ETag);
        DateTime modified = head.LastModified!.Value.ToUniversalTime();

        // The same ETag from the other gateway, and in listings.
        Assert.Equal(head.ETag, (await _cluster.Client(1).GetObjectMetadataAsync("archive", "readme.txt").Within()).ETag);
        Assert.Equal(head.ETag, (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "archive" }).Within()).S3Objects.Single().ETag);

        async Task<HttpStatusCode> StatusAsync(Action<GetObjectRequest> condition)
        {
            var request = new GetObjectRequest { BucketName = "archive", Key = "readme.txt" };
            condition(request);
            try
            {
                using GetObjectResponse response = await s3.GetObjectAsync(request).Within();
                return response.HttpStatusCode;
            }
            catch (AmazonS3Exception e)
            {
                return e.StatusCode;
            }
        }

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => r.EtagToMatch = head.ETag));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await StatusAsync(r => r.EtagToMatch = "\"00000000000000000000000000000000\""));
        Assert.Equal(HttpStatusCode.NotModified, await StatusAsync(r => r.EtagToNotMatch = head.ETag));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => r.EtagToNotMatch = "\"00000000000000000000000000000000\""));
        Assert.Equal(HttpStatusCode.NotModified, await StatusAsync(r => r.ModifiedSinceDate = modified.AddMinutes(1)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => r.ModifiedSinceDate = modified.AddMinutes(-1)));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await StatusAsync(r => r.UnmodifiedSinceDate = modified.AddMinutes(-1)));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => r.UnmodifiedSinceDate = modified.AddMinutes(1)));

        // S3's precedence: If-Match true wins over a false If-Unmodified-Since; If-None-Match false over a true If-Modified-Since.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => { r.EtagToMatch = head.ETag; r.UnmodifiedSinceDate = modified.AddMinutes(-1); }));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(r => { r.EtagToNotMatch = "\"0\""; r.ModifiedSinceDate = modified.AddMinutes(1); }));
    }

    [Fact]
    public async Task Missing_keys_buckets_directories_and_unsupported_subresources_get_S3_errors()
    {
        AmazonS3Client s3 = _cluster.Client(0);
        Assert.Equal("NoSuchKey", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("lake", "missing.bin")).Within()).ErrorCode);
        Assert.Equal("NoSuchKey", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("lake", "events")).Within()).ErrorCode);
        Assert.Equal("NoSuchBucket", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("nobucket", "x")).Within()).ErrorCode);
        Assert.Equal("NoSuchBucket", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("not-a-bucket.txt", "x")).Within()).ErrorCode);
        var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectMetadataAsync("lake", "missing.bin")).Within();
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var acl = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAclAsync(new GetObjectAclRequest { BucketName = "lake", Key = "big.bin" })).Within();
        Assert.Equal("NotImplemented", acl.ErrorCode);
        Assert.Equal(HttpStatusCode.NotImplemented, acl.StatusCode);
    }

    [Fact]
    public async Task Many_concurrent_ranged_gets_of_one_cold_object_return_the_same_bytes_and_read_each_page_once()
    {
        byte[] whole = File.ReadAllBytes(Local("lake", "events", "part-11.bin"));
        int owner = _cluster.OwnerIndex("/lake/events/part-11.bin");
        int before = _cluster.Storages[owner].Reads;
        var reads = Enumerable.Range(0, 32).Select(async i =>
        {
            int start = i * 20_000 % (whole.Length - 50_000);
            var request = new GetObjectRequest { BucketName = "lake", Key = "events/part-11.bin", ByteRange = new ByteRange(start, start + 49_999) };
            using GetObjectResponse response = await _cluster.Client(i % 2).GetObjectAsync(request);
            Assert.Equal(whole.AsSpan(start, 50_000).ToArray(), await BodyAsync(response));
        });
        await Task.WhenAll(reads).Within();
        int pages = (whole.Length + GatewayCluster.PageSize - 1) / GatewayCluster.PageSize;
        Assert.InRange(_cluster.Storages[owner].Reads - before, 1, pages);
    }
}
