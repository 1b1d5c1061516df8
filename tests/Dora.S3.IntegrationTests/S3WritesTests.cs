using Amazon.S3;
using Dora.Core.Errors;
using Dora.Core.UnderStorage;
using Dora.TestSupport;

namespace Dora.S3.IntegrationTests;

/// <summary>Writes to an S3 store (s3rver): one PutObject for small files, the store's multipart upload beyond a part.</summary>
public sealed class S3WritesTests(S3Fixture s3) : IClassFixture<S3Fixture>
{
    [Fact]
    public async Task A_small_file_is_one_put_and_reads_back_exactly()
    {
        using S3UnderStorage ufs = s3.Storage("writes/");
        byte[] bytes = TestFiles.RandomBytes(100_000, seed: 5);
        await using (IUfsWriter writer = await ufs.CreateAsync("small/a.bin", default).Within())
        {
            await writer.WriteAsync(bytes, default);
            UfsFileStatus status = await writer.CommitAsync(default).Within();
            Assert.Equal(bytes.Length, status.Length);
        }

        UfsFileStatus read = await ufs.StatAsync("small/a.bin", default).Within();
        byte[] back = new byte[bytes.Length];
        Assert.Equal(bytes.Length, await ufs.ReadAsync("small/a.bin", read.Fingerprint, 0, back, default).Within());
        Assert.Equal(bytes, back);
    }

    [Fact]
    public async Task A_large_file_goes_out_in_parts_and_appears_only_at_commit()
    {
        using S3UnderStorage ufs = s3.Storage("writes/");
        byte[] bytes = TestFiles.RandomBytes((2 * S3UfsWriter.PartBytes) + 12_345, seed: 6);
        await using (IUfsWriter writer = await ufs.CreateAsync("large/b.bin", default).Within())
        {
            for (int offset = 0; offset < bytes.Length; offset += 1 << 20)
            {
                await writer.WriteAsync(bytes.AsMemory(offset, Math.Min(1 << 20, bytes.Length - offset)), default);
            }

            await Assert.ThrowsAsync<DoraFileNotFoundException>(() => ufs.StatAsync("large/b.bin", default).AsTask()).Within();
            await writer.CommitAsync(default).Within();
        }

        UfsFileStatus status = await ufs.StatAsync("large/b.bin", default).Within();
        byte[] back = new byte[bytes.Length];
        Assert.Equal(bytes.Length, await ufs.ReadAsync("large/b.bin", status.Fingerprint, 0, back, default).Within());
        Assert.Equal(bytes, back);

        Assert.True(await ufs.DeleteAsync("large/b.bin", default).Within());
        Assert.False(await ufs.DeleteAsync("large/b.bin", default).Within());
    }

    [Fact]
    public async Task An_abandoned_large_write_leaves_no_object()
    {
        using S3UnderStorage ufs = s3.Storage("writes/");
        await using (IUfsWriter writer = await ufs.CreateAsync("abandoned/c.bin", default).Within())
        {
            await writer.WriteAsync(new byte[S3UfsWriter.PartBytes + 10], default);
        }

        await Assert.ThrowsAsync<DoraFileNotFoundException>(() => ufs.StatAsync("abandoned/c.bin", default).AsTask()).Within();
    }
}
