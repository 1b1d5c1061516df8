using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;

namespace Dora.S3Gateway.IntegrationTests;

/// <summary>
/// ListObjectsV2 and ListObjects against the keys computed independently from the folder: S3's ordinal key order (where
/// <c>a-b/x</c> comes before <c>a/x</c>, unlike the directories' name order), prefixes, delimiters, paging and markers.
/// </summary>
public sealed class ListingTests : IAsyncLifetime
{
    private static readonly string[] Keys =
    [
        "a/x.txt", "a/y/z.txt", "a-b/x.txt", "a.c", "a0/k", "b.txt", "c/d/e/f.txt", "c/d/g.txt", "c/h.txt",
        "logs/2024-01-01.log", "logs/2024-01-02.log", "logs/2024-02-01.log", "logs/archive/old.log", "space name/file one.txt", "z",
    ];

    private GatewayCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await GatewayCluster.StartAsync(2, ufs =>
    {
        foreach (string key in Keys)
        {
            string path = Path.Combine(ufs, "bucket", key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, key);
        }
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static IEnumerable<string> Sorted(IEnumerable<string> keys) => keys.Order(StringComparer.Ordinal);

    private async Task<(List<string> Keys, List<string> Prefixes, int Pages)> ListAllAsync(int gateway, string? prefix, string? delimiter, int maxKeys, string? startAfter = null)
    {
        var keys = new List<string>();
        var prefixes = new List<string>();
        var request = new ListObjectsV2Request { BucketName = "bucket", Prefix = prefix, Delimiter = delimiter, MaxKeys = maxKeys, StartAfter = startAfter };
        int pages = 0;
        while (true)
        {
            ListObjectsV2Response page = await _cluster.Client(gateway).ListObjectsV2Async(request).Within();
            pages++;
            Assert.True(page.KeyCount <= maxKeys);
            keys.AddRange(page.S3Objects?.Select(o => o.Key) ?? []);
            prefixes.AddRange(page.CommonPrefixes ?? []);
            if (page.IsTruncated != true)
            {
                return (keys, prefixes, pages);
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(3)]
    [InlineData(1)]
    public async Task A_recursive_listing_returns_every_key_in_S3_order_in_pages(int maxKeys)
    {
        (List<string> keys, List<string> prefixes, int pages) = await ListAllAsync(maxKeys % 2, null, null, maxKeys);
        Assert.Equal(Sorted(Keys), keys);
        Assert.Empty(prefixes);
        Assert.Equal((Keys.Length + maxKeys - 1) / maxKeys, pages);
    }

    [Theory]
    [InlineData(null, 1000)]
    [InlineData(null, 2)]
    [InlineData("c/", 1)]
    [InlineData("logs/", 2)]
    [InlineData("a", 2)]
    public async Task A_delimited_listing_rolls_directories_into_common_prefixes(string? prefix, int maxKeys)
    {
        (List<string> keys, List<string> prefixes, _) = await ListAllAsync(1, prefix, "/", maxKeys);
        IEnumerable<string> matching = Keys.Where(k => k.StartsWith(prefix ?? string.Empty, StringComparison.Ordinal));
        int from = (prefix ?? string.Empty).Length;
        Assert.Equal(Sorted(matching.Where(k => k.IndexOf('/', from) < 0)), keys);
        Assert.Equal(Sorted(matching.Where(k => k.IndexOf('/', from) >= 0).Select(k => k[..(k.IndexOf('/', from) + 1)]).Distinct()), prefixes);
    }

    [Theory]
    [InlineData("logs/2024-01")]
    [InlineData("a-")]
    [InlineData("c/d/")]
    [InlineData("nothing/")]
    public async Task A_prefix_selects_exactly_the_keys_that_start_with_it(string prefix)
    {
        (List<string> keys, _, _) = await ListAllAsync(0, prefix, null, 2);
        Assert.Equal(Sorted(Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))), keys);
    }

    [Theory]
    [InlineData("a-b/x.txt")]
    [InlineData("a")]
    [InlineData("a/")]
    [InlineData("c/d/e")]
    [InlineData("logs/2024-01-02.log")]
    public async Task Start_after_and_v1_markers_resume_after_the_key(string after)
    {
        (List<string> keys, _, _) = await ListAllAsync(0, null, null, 4, startAfter: after);
        Assert.Equal(Sorted(Keys).Where(k => string.CompareOrdinal(k, after) > 0), keys);

        ListObjectsResponse v1 = await _cluster.Client(1).ListObjectsAsync(new ListObjectsRequest { BucketName = "bucket", Marker = after }).Within();
        Assert.Equal(Sorted(Keys).Where(k => string.CompareOrdinal(k, after) > 0), v1.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Url_encoding_and_a_delimiter_other_than_slash_work()
    {
        ListObjectsV2Response encoded = await _cluster.Client(0).ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket", Prefix = "space name/", Encoding = EncodingType.Url }).Within();
        // Asked for by the caller, the encoding is the caller's to undo (botocore's unquote_plus, Uri.UnescapeDataString).
        Assert.Equal("space%20name/file%20one.txt", encoded.S3Objects.Single().Key);
        Assert.Equal("space%20name/", encoded.Prefix);

        (List<string> keys, List<string> prefixes, _) = await ListAllAsync(0, "logs/", "-", 1000);
        Assert.Equal(["logs/archive/old.log"], keys);
        Assert.Equal(["logs/2024-"], prefixes);
    }

    [Fact]
    public async Task Listing_a_missing_bucket_is_NoSuchBucket_and_a_missing_prefix_is_empty()
    {
        var error = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => _cluster.Client(0).ListObjectsV2Async(new ListObjectsV2Request { BucketName = "missing" })).Within();
        Assert.Equal("NoSuchBucket", error.ErrorCode);
        ListObjectsV2Response empty = await _cluster.Client(0).ListObjectsV2Async(new ListObjectsV2Request { BucketName = "bucket", Prefix = "no/such/dir/" }).Within();
        Assert.Equal(0, empty.KeyCount);
    }
}
