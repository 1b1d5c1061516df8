using Dora.Core.Errors;
using Dora.Core.UnderStorage;
using Dora.TestSupport;

namespace Dora.S3.IntegrationTests;

/// <summary>The S3 under storage against a real S3-compatible server on loopback.</summary>
public sealed class S3UnderStorageTests : IClassFixture<S3Fixture>
{
    private readonly S3Fixture _s3;

    public S3UnderStorageTests(S3Fixture s3) => _s3 = s3;

    [Fact]
    public async Task Stat_is_a_head_with_length_etag_and_prefixes_are_directories()
    {
        byte[] bytes = TestFiles.RandomBytes(12345, 1);
        await _s3.PutAsync("stat/dir/file.bin", bytes);
        using S3UnderStorage storage = _s3.Storage();

        UfsFileStatus file = await storage.StatAsync("stat/dir/file.bin", default);
        Assert.False(file.IsDirectory);
        Assert.Equal(12345, file.Length);
        Assert.False(string.IsNullOrEmpty(file.ETag));
        Assert.True((await storage.StatAsync("stat/dir", default)).IsDirectory);
        Assert.True((await storage.StatAsync(string.Empty, default)).IsDirectory);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(async () => await storage.StatAsync("stat/nope", default));
    }

    [Fact]
    public async Task Ranged_reads_are_byte_exact()
    {
        byte[] bytes = TestFiles.RandomBytes(3_000_000, 2);
        await _s3.PutAsync("ranges/big.bin", bytes);
        using S3UnderStorage storage = _s3.Storage();
        UfsFileStatus status = await storage.StatAsync("ranges/big.bin", default);
        var random = new Random(3);
        for (int i = 0; i < 30; i++)
        {
            int offset = random.Next(bytes.Length);
            byte[] buffer = new byte[random.Next(1, 300_000)];
            int read = await storage.ReadAsync("ranges/big.bin", status.Fingerprint, offset, buffer, default);
            Assert.Equal(Math.Min(buffer.Length, bytes.Length - offset), read);
            Assert.Equal(bytes.AsSpan(offset, read).ToArray(), buffer.AsSpan(0, read).ToArray());
        }

        Assert.Equal(0, await storage.ReadAsync("ranges/big.bin", status.Fingerprint, bytes.Length, new byte[10], default));
    }

    [Fact]
    public async Task Listing_thousands_of_keys_pages_through_every_name_once()
    {
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Enumerable.Range(0, 2500), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            await _s3.PutAsync($"many/k{i:D5}", [(byte)i]);
        });
        for (int i = 0; i < 2500; i++)
        {
            expected.Add($"k{i:D5}");
        }

        // Names around '/' in byte order: "a-x" < "a/..." < "a0" as keys, but the directory "a" lists once.
        await _s3.PutAsync("many/a-x", [1]);
        await _s3.PutAsync("many/a/inner", [1]);
        await _s3.PutAsync("many/a0", [1]);
        expected.UnionWith(["a-x", "a", "a0"]);

        using S3UnderStorage storage = _s3.Storage();
        foreach (int limit in new[] { 1000, 97 })
        {
            var seen = new List<string>();
            string? after = null;
            int pages = 0;
            do
            {
                UfsListingPage page = await storage.ListAsync("many", after, limit, default);
                Assert.True(page.Entries.Count <= limit);
                seen.AddRange(page.Entries.Select(e => e.Name));
                Assert.Contains(page.Entries, e => true);
                after = page.NextToken;
                pages++;
            }
            while (after is not null && pages < 1000);

            Assert.Equal(expected.Count, seen.Count);
            Assert.Equal(expected, new SortedSet<string>(seen, StringComparer.Ordinal));
        }

        // One entry per page across the names around '/': each once, the directory once.
        await _s3.PutAsync("edge/a-x", [1]);
        await _s3.PutAsync("edge/a/inner", [1]);
        await _s3.PutAsync("edge/a/deeper/x", [1]);
        await _s3.PutAsync("edge/a0", [1]);
        var single = new List<string>();
        for (string? token = null; ;)
        {
            UfsListingPage page = await storage.ListAsync("edge", token, 1, default);
            single.AddRange(page.Entries.Select(e => e.Name));
            if ((token = page.NextToken) is null)
            {
                break;
            }
        }

        Assert.Equal(["a-x", "a", "a0"], single);

        UfsListingPage first = await storage.ListAsync("many", null, 3, default);
        Assert.True(first.Entries.Single(e => e.Name == "a").IsDirectory);
        await Assert.ThrowsAsync<DoraFileNotFoundException>(async () => await storage.ListAsync("no-such-dir", null, 10, default));
    }

    [Fact]
    public async Task A_read_under_an_old_etag_fails_instead_of_returning_other_bytes()
    {
        await _s3.PutAsync("etag/file.bin", TestFiles.RandomBytes(5000, 4));
        using S3UnderStorage storage = _s3.Storage();
        UfsFileStatus before = await storage.StatAsync("etag/file.bin", default);
        await _s3.PutAsync("etag/file.bin", TestFiles.RandomBytes(5000, 5));

        var error = await Assert.ThrowsAsync<FileChangedException>(async () => await storage.ReadAsync("etag/file.bin", before.Fingerprint, 0, new byte[100], default));
        Assert.Contains("changed", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task A_missing_bucket_is_named_and_credentials_never_appear_in_the_description()
    {
        using var storage = new S3UnderStorage(S3Location.Parse(new Uri(_s3.Server.MountUri("no-such-bucket"))), S3Fixture.Options);
        var error = await Assert.ThrowsAsync<UnderStorageException>(async () => await storage.StatAsync("x", default));
        Assert.Contains("the bucket 'no-such-bucket' does not exist", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.DoesNotContain(S3ServerProcess.SecretKey, storage.Description, StringComparison.Ordinal);
        Assert.Contains("SecretKey = ***", S3Fixture.Options.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("s3://Bad_Bucket/x", "not a valid bucket name")]
    [InlineData("s3://user:secret@bucket/x", "must not carry credentials")]
    [InlineData("s3://bucket/x?endpoint=ftp://host", "http:// or https://")]
    [InlineData("s3://bucket/x?addressing=sideways", "'path' or 'virtual'")]
    [InlineData("s3://bucket/x?colour=blue", "unknown s3 option 'colour'")]
    public void Bad_locations_are_refused_with_the_reason(string uri, string expected)
    {
        var error = Assert.Throws<FormatException>(() => S3Location.Parse(new Uri(uri)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Locations_default_to_path_style_with_an_endpoint_and_virtual_host_without()
    {
        S3Location custom = S3Location.Parse(new Uri("s3://bucket/lake/raw?endpoint=http://127.0.0.1:9000&region=eu-west-1"));
        Assert.Equal(("bucket", "lake/raw/", true, "eu-west-1"), (custom.Bucket, custom.Prefix, custom.PathStyle, custom.Region));
        S3Location aws = S3Location.Parse(new Uri("s3://bucket"));
        Assert.Equal((string.Empty, false, null), (aws.Prefix, aws.PathStyle, aws.Endpoint));
        Assert.True(S3Location.Parse(new Uri("s3://bucket?endpoint=http://h:1&addressing=virtual")).PathStyle is false);
    }
}
