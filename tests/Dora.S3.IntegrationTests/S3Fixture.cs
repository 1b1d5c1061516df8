using Amazon.S3;
using Amazon.S3.Model;
using Dora.TestSupport;

namespace Dora.S3.IntegrationTests;

/// <summary>An s3rver with a bucket "data", and a direct AWSSDK client to put objects into it.</summary>
public sealed class S3Fixture : IAsyncLifetime
{
    public S3ServerProcess Server { get; private set; } = null!;

    public AmazonS3Client Direct { get; private set; } = null!;

    public static S3Options Options => new()
    {
        AccessKey = S3ServerProcess.AccessKey,
        SecretKey = S3ServerProcess.SecretKey,
        MaxRetries = 2,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    public S3Location Location(string prefix = "") => S3Location.Parse(new Uri(Server.MountUri("data", prefix)));

    public S3UnderStorage Storage(string prefix = "") => new(Location(prefix), Options);

    public async Task InitializeAsync()
    {
        Server = await S3ServerProcess.StartAsync("data");
        Direct = Server.DirectClient();
    }

    public async Task PutAsync(string key, byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        await Direct.PutObjectAsync(new PutObjectRequest { BucketName = "data", Key = key, InputStream = stream, UseChunkEncoding = false }).Within();
    }

    public async Task DisposeAsync()
    {
        Direct?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
