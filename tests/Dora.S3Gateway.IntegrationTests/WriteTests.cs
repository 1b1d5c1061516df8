using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>PutObject, CopyObject, DeleteObject and DeleteObjects through the AWS SDK: through to the folder, visible at once everywhere.</summary>
public sealed class WriteTests : IAsyncLifetime
{
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(2, ufs =>
    {
        Directory.CreateDirectory(Path.Combine(ufs, "lake"));
        File.WriteAllText(Path.Combine(ufs, "lake", "old.txt"), "the old version");
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string Local(params string[] parts) => Path.Combine([_cluster.UfsPath, .. parts]);

    private async Task<byte[]> GetAsync(int gateway, string bucket, string key)
    {
        using GetObjectResponse response = await _cluster.Client(gateway).GetObjectAsync(bucket, key).Within();
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(true, 100)]
    [InlineData(true, 3_000_000)]
    [InlineData(false, 3_000_000)]
    public async Task A_put_object_lands_in_the_folder_and_reads_back_from_every_gateway(bool chunked, int length)
    {
        byte[] bytes = TestFiles.RandomBytes(length, seed: length);
        using var body = new MemoryStream(bytes);
        PutObjectResponse put = await _cluster.Client(0).PutObjectAsync(new PutObjectRequest
        {
            BucketName = "lake", Key = $"new/dir/{chunked}-{length}.bin", InputStream = body, UseChunkEncoding = chunked,
        }).Within();
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", put.ETag);
        Assert.Equal(bytes, File.ReadAllBytes(Local("lake", "new", "dir", $"{chunked}-{length}.bin")));
        for (int gateway = 0; gateway < 2; gateway++)
        {
            Assert.Equal(bytes, await GetAsync(gateway, "lake", $"new/dir/{chunked}-{length}.bin"));
        }

        // The new directories are in the listings at once.
        ListObjectsV2Response listed = await _cluster.Client(1).ListObjectsV2Async(new ListObjectsV2Request { BucketName = "lake", Delimiter = "/" }).Within();
        Assert.Contains("new/", listed.CommonPrefixes);
    }

    [Fact]
    public async Task An_overwrite_is_seen_whole_at_once_and_the_old_version_is_never_served_again()
    {
        // Both gateways have read (and cached) the old version.
        Assert.Equal("the old version"u8.ToArray(), await GetAsync(0, "lake", "old.txt"));
        Assert.Equal("the old version"u8.ToArray(), await GetAsync(1, "lake", "old.txt"));
        for (int round = 0; round < 5; round++)
        {
            byte[] fresh = TestFiles.RandomBytes(200_000 + round, seed: round);
            await _cluster.Client(round % 2).PutObjectAsync(new PutObjectRequest { BucketName = "lake", Key = "old.txt", InputStream = new MemoryStream(fresh) }).Within();
            Assert.Equal(fresh, await GetAsync(0, "lake", "old.txt"));
            Assert.Equal(fresh, await GetAsync(1, "lake", "old.txt"));
        }
    }

    [Fact]
    public async Task Delete_removes_the_key_and_the_directories_it_empties_and_a_missing_key_is_fine()
    {
        await _cluster.Client(0).PutObjectAsync(new PutObjectRequest { BucketName = "lake", Key = "a/b/c.txt", ContentBody = "c" }).Within();
        Assert.Equal("c"u8.ToArray(), await GetAsync(1, "lake", "a/b/c.txt"));
        DeleteObjectResponse deleted = await _cluster.Client(1).DeleteObjectAsync("lake", "a/b/c.txt").Within();
        Assert.Equal(HttpStatusCode.NoContent, deleted.HttpStatusCode);
        Assert.False(Directory.Exists(Local("lake", "a")));
        Assert.True(Directory.Exists(Local("lake")));
        await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => GetAsync(0, "lake", "a/b/c.txt"));
        Assert.DoesNotContain("a/", (await _cluster.Client(0).ListObjectsV2Async(new ListObjectsV2Request { BucketName = "lake", Delimiter = "/" }).Within()).CommonPrefixes ?? []);
        Assert.Equal(HttpStatusCode.NoContent, (await _cluster.Client(0).DeleteObjectAsync("lake", "never/was.txt").Within()).HttpStatusCode);
    }

    [Fact]
    public async Task Delete_objects_deletes_many_and_reports_each()
    {
        for (int i = 0; i < 5; i++)
        {
            await _cluster.Client(i % 2).PutObjectAsync(new PutObjectRequest { BucketName = "lake", Key = $"batch/{i}.txt", ContentBody = $"{i}" }).Within();
        }

        DeleteObjectsResponse response = await _cluster.Client(0).DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = "lake",
            Objects = [.. Enumerable.Range(0, 5).Select(i => new KeyVersion { Key = $"batch/{i}.txt" }), new KeyVersion { Key = "batch/missing.txt" }],
        }).Within();
        Assert.Equal(6, response.DeletedObjects.Count);
        Assert.False(Directory.Exists(Local("lake", "batch")));
    }

    [Fact]
    public async Task Copy_object_copies_through_the_owner_and_honours_its_conditions()
    {
        byte[] bytes = TestFiles.RandomBytes(700_000, seed: 3);
        await _cluster.Client(0).PutObjectAsync(new PutObjectRequest { BucketName = "lake", Key = "src.bin", InputStream = new MemoryStream(bytes) }).Within();
        CopyObjectResponse copy = await _cluster.Client(1).CopyObjectAsync("lake", "src.bin", "lake", "copies/dst.bin").Within();
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", copy.ETag);
        Assert.Equal(bytes, await GetAsync(0, "lake", "copies/dst.bin"));

        var refused = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "lake", SourceKey = "src.bin", DestinationBucket = "lake", DestinationKey = "copies/never.bin", ETagToMatch = "\"0-1\"",
        })).Within();
        Assert.Equal("PreconditionFailed", refused.ErrorCode);
        Assert.False(File.Exists(Local("lake", "copies", "never.bin")));
    }

    [Fact]
    public async Task A_body_that_breaks_its_promises_is_refused_and_nothing_is_written()
    {
        var badMd5 = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).PutObjectAsync(new PutObjectRequest
        {
            BucketName = "lake", Key = "bad-md5.txt", ContentBody = "some bytes", MD5Digest = Convert.ToBase64String(MD5.HashData("other bytes"u8)),
        })).Within();
        Assert.Equal("BadDigest", badMd5.ErrorCode);
        Assert.False(File.Exists(Local("lake", "bad-md5.txt")));
        Assert.Empty(Directory.GetFiles(Local("lake"), ".dora-upload-*"));

        // A presigned PUT carries no payload hash: the URL alone is the authorization.
        string url = await _cluster.Client(0).GetPreSignedURLAsync(new GetPreSignedUrlRequest { BucketName = "lake", Key = "presigned.txt", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Amazon.S3.Protocol.HTTP });
        using var http = new HttpClient();
        HttpResponseMessage put = await http.PutAsync(url, new StringContent("via a presigned url")).Within();
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("via a presigned url", File.ReadAllText(Local("lake", "presigned.txt")));

        var noBucket = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).PutObjectAsync(new PutObjectRequest { BucketName = "nobucket", Key = "x", ContentBody = "x" })).Within();
        Assert.Equal("NoSuchBucket", noBucket.ErrorCode);
    }
}
