using Amazon.S3;
using Amazon.S3.Model;
using Dora.Core.UnderStorage;

namespace Dora.S3;

/// <summary>
/// A new version of an object: up to <see cref="PartBytes"/> is held in memory and sent as one PutObject at commit;
/// beyond that the bytes go out as the parts of the store's own multipart upload, completed at commit (S3 makes the
/// object visible then, whole) and aborted when the writer is disposed uncommitted. Memory: one part per writer.
/// </summary>
internal sealed class S3UfsWriter(
    AmazonS3Client client, string bucket, string key, Func<Func<CancellationToken, Task>, CancellationToken, Task> call, Func<CancellationToken, ValueTask<UfsFileStatus>> status) : IUfsWriter
{
    /// <summary>Bytes per part: 8 MiB (S3's minimum is 5 MiB for every part but the last).</summary>
    public const int PartBytes = 8 << 20;

    private readonly MemoryStream _buffer = new();
    private readonly List<PartETag> _parts = [];
    private string? _uploadId;
    private bool _committed;

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int take = (int)Math.Min(data.Length, PartBytes - _buffer.Length);
            _buffer.Write(data.Span[..take]);
            data = data[take..];
            Length += take;
            if (_buffer.Length == PartBytes)
            {
                await SendPartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<UfsFileStatus> CommitAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            _buffer.Position = 0;
            await call(token => client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = _buffer, AutoCloseStream = false, UseChunkEncoding = false }, token), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            if (_buffer.Length > 0)
            {
                await SendPartAsync(cancellationToken).ConfigureAwait(false);
            }

            await call(token => client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = _uploadId, PartETags = _parts }, token), cancellationToken).ConfigureAwait(false);
        }

        _committed = true;
        return await status(cancellationToken).ConfigureAwait(false);
    }

    private async Task SendPartAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            await call(async token => _uploadId = (await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = key }, token).ConfigureAwait(false)).UploadId, cancellationToken).ConfigureAwait(false);
        }

        int number = _parts.Count + 1;
        _buffer.Position = 0;
        await call(async token =>
        {
            UploadPartResponse part = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = bucket, Key = key, UploadId = _uploadId, PartNumber = number, InputStream = _buffer, PartSize = _buffer.Length, UseChunkEncoding = false,
            }, token).ConfigureAwait(false);
            _parts.Add(new PartETag(number, part.ETag));
        }, cancellationToken).ConfigureAwait(false);
        _buffer.SetLength(0);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_committed && _uploadId is not null)
        {
            try
            {
                await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = _uploadId }).ConfigureAwait(false);
            }
            catch (AmazonS3Exception)
            {
                // The store expires abandoned uploads by its own lifecycle rules.
            }
        }

        await _buffer.DisposeAsync().ConfigureAwait(false);
    }
}
