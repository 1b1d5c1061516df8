using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.S3.Transfer;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>Multipart uploads through the AWS SDK: staged parts, completion made visible whole, abort, and S3's refusals.</summary>
public sealed class MultipartTests : IAsyncLifetime
{
    private const int Part = 5 << 20;
    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(2, ufs =>
    {
        Directory.CreateDirectory(Path.Combine(ufs, "lake"));
        TestFiles.Write(Path.Combine(ufs, "lake", "source.bin"), (2 * Part) + 1000, seed: 4);
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private string Local(params string[] parts) => Path.Combine([_cluster.UfsPath, .. parts]);

    private static async Task<UploadPartResponse> PartAsync(AmazonS3Client s3, string key, string id, int number, byte[] bytes) =>
        await s3.UploadPartAsync(new UploadPartRequest { BucketName = "lake", Key = key, UploadId = id, PartNumber = number, InputStream = new MemoryStream(bytes) }).Within();

    [Fact]
    public async Task The_transfer_utility_uploads_in_parts_and_the_object_appears_whole()
    {
        byte[] bytes = TestFiles.RandomBytes((3 * Part) + 123_456, seed: 1);
        using var transfer = new TransferUtility(_cluster.Client(0));
        await transfer.UploadAsync(new TransferUtilityUploadRequest { BucketName = "lake", Key = "tables/big.bin", InputStream = new MemoryStream(bytes), PartSize = Part }).Within();
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(File.ReadAllBytes(Local("lake", "tables", "big.bin"))));
        using GetObjectResponse response = await _cluster.Client(1).GetObjectAsync("lake", "tables/big.bin").Within();
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Empty(Directory.GetDirectories(_cluster.StagingPath(0)));
    }

    [Fact]
    public async Task Parts_are_listed_invisible_until_completed_and_an_abort_leaves_nothing()
    {
        AmazonS3Client s3 = _cluster.Client(1);
        string id = (await s3.InitiateMultipartUploadAsync("lake", "manual.bin").Within()).UploadId;
        byte[] first = TestFiles.RandomBytes(Part, seed: 2);
        byte[] second = TestFiles.RandomBytes(777, seed: 3);
        UploadPartResponse one = await PartAsync(s3, "manual.bin", id, 1, first);
        UploadPartResponse two = await PartAsync(s3, "manual.bin", id, 2, second);
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(first))}\"", one.ETag);

        ListPartsResponse parts = await s3.ListPartsAsync(new ListPartsRequest { BucketName = "lake", Key = "manual.bin", UploadId = id }).Within();
        Assert.Equal([1, 2], parts.Parts.Select(p => p.PartNumber ?? 0));
        Assert.Equal([Part, 777L], parts.Parts.Select(p => p.Size ?? 0));
        ListMultipartUploadsResponse uploads = await s3.ListMultipartUploadsAsync("lake").Within();
        Assert.Equal(id, uploads.MultipartUploads.Single().UploadId);
        Assert.False(File.Exists(Local("lake", "manual.bin")));

        // Wrong ETags, wrong order, and a small part before the last are refused, and nothing is written.
        var wrong = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "lake", Key = "manual.bin", UploadId = id, PartETags = [new PartETag(1, "\"00\""), new PartETag(2, two.ETag)],
        })).Within();
        Assert.Equal("InvalidPart", wrong.ErrorCode);
        var small = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "lake", Key = "manual.bin", UploadId = id, PartETags = [new PartETag(2, two.ETag), new PartETag(3, two.ETag)],
        })).Within();
        Assert.True(small.ErrorCode is "InvalidPart" or "EntityTooSmall", small.ErrorCode);
        Assert.False(File.Exists(Local("lake", "manual.bin")));

        CompleteMultipartUploadResponse done = await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "lake", Key = "manual.bin", UploadId = id, PartETags = [new PartETag(1, one.ETag), new PartETag(2, two.ETag)],
        }).Within();
        Assert.EndsWith("-2\"", done.ETag, StringComparison.Ordinal);
        Assert.Equal([.. first, .. second], File.ReadAllBytes(Local("lake", "manual.bin")));
        Assert.Equal("NoSuchUpload", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => PartAsync(s3, "manual.bin", id, 3, second))).ErrorCode);

        string aborted = (await s3.InitiateMultipartUploadAsync("lake", "aborted.bin").Within()).UploadId;
        await PartAsync(s3, "aborted.bin", aborted, 1, first);
        await s3.AbortMultipartUploadAsync("lake", "aborted.bin", aborted).Within();
        Assert.False(File.Exists(Local("lake", "aborted.bin")));
        Assert.Empty(Directory.GetDirectories(_cluster.StagingPath(1)));
    }

    [Fact]
    public async Task Upload_part_copy_takes_ranges_of_another_object()
    {
        AmazonS3Client s3 = _cluster.Client(0);
        byte[] source = File.ReadAllBytes(Local("lake", "source.bin"));
        string id = (await s3.InitiateMultipartUploadAsync("lake", "spliced.bin").Within()).UploadId;
        CopyPartResponse first = await s3.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = "lake", SourceKey = "source.bin", DestinationBucket = "lake", DestinationKey = "spliced.bin", UploadId = id, PartNumber = 1, FirstByte = Part, LastByte = (2 * Part) - 1,
        }).Within();
        CopyPartResponse second = await s3.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = "lake", SourceKey = "source.bin", DestinationBucket = "lake", DestinationKey = "spliced.bin", UploadId = id, PartNumber = 2, FirstByte = 0, LastByte = 99,
        }).Within();
        await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "lake", Key = "spliced.bin", UploadId = id, PartETags = [new PartETag(1, first.ETag), new PartETag(2, second.ETag)],
        }).Within();
        Assert.Equal([.. source.AsSpan(Part, Part).ToArray(), .. source.AsSpan(0, 100).ToArray()], File.ReadAllBytes(Local("lake", "spliced.bin")));
    }
}
